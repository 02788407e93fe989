"""Solution to tutorial 3's exercise (tests/test_course.py checks it)."""


def labels(ids, offsets, spans):
    "Each token's own id when it starts inside a supervised span, else -100 (ignored by the loss)."
    inside = lambda s: any(lo <= s < hi for lo, hi in spans)
    return [t if inside(start) else -100 for t, (start, _) in zip(ids, offsets)]

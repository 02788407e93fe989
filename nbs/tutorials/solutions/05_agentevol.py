"""Solution to tutorial 5's exercise (tests/test_course.py checks it)."""


def shares(success: dict) -> dict:
    "A quarter of the budget split evenly, the rest in proportion to p(1-p): most where the model succeeds half the time."
    spread = {env: p * (1 - p) for env, p in success.items()}
    total, uniform = sum(spread.values()), 1 / len(success)
    return {env: 0.25 * uniform + 0.75 * (s / total if total else uniform) for env, s in spread.items()}

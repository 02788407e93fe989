"""Solution to tutorial 6's exercise (tests/test_course.py checks it)."""
import math


def paired_p(base: list, other: list) -> float:
    "McNemar's exact two-sided p-value: only the items where exactly one run succeeded count."
    b = sum(x and not y for x, y in zip(base, other))
    c = sum(y and not x for x, y in zip(base, other))
    n = b + c
    if n == 0: return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n)

"""Solution to tutorial 4's exercise (tests/test_course.py checks it)."""
import math


def interval(k: int, n: int) -> tuple:
    "Wilson's 95% score interval of k successes in n trials."
    p, z2 = k / n, 1.96 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = 1.96 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (max(0.0, centre - half), min(1.0, centre + half))

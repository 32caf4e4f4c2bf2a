def make_divisible(value: float,
                   divisor: int = 8,
                   min_value: int = None) -> int:
    """Round ``value`` to a multiple of ``divisor`` as Once-for-All does.

    The result is the nearest multiple (halves rounded up), at least
    ``min_value`` (default ``divisor``), and never more than 10 % below
    ``value``: ``make_divisible(18) == 24``, ``make_divisible(72) == 72``.
    """
    if min_value is None:
        min_value = divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded

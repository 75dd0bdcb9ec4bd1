"""What the host commands' results have in common."""


def rounded(seconds):
    """Seconds as reported (one decimal), or None."""
    return None if seconds is None else round(seconds, 1)

"""The one error type of the pruning package."""


class PruningError(ValueError):
    """A bad pruning option: the message names the option and what is allowed."""

class ConcurrencyConflict(Exception):
    """Someone else changed (or created) the entity since it was read."""


class InvalidContinuation(ValueError):
    """A continuation token this service did not hand out."""

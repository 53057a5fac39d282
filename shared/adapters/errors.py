"""What the storage adapters raise that the services act on: a lost race, a continuation
token from elsewhere, a row that cannot be read."""


class ConcurrencyConflict(Exception):
    """Someone else changed (or created) the entity since it was read."""


class InvalidContinuation(ValueError):
    """A continuation token this service did not hand out."""


class CorruptRow(Exception):
    """A stored row that does not parse as what the table holds."""

    def __init__(self, table: str, partition_key: str, row_key: str) -> None:
        super().__init__(f"corrupt row in {table}: {partition_key!r} / {row_key!r}")
        self.table = table
        self.partition_key = partition_key
        self.row_key = row_key

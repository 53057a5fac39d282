class PoisonMessage(Exception):
    """A queue message that can never be processed, however often it is retried."""

    def __init__(self, event_id: str | None, reason: str) -> None:
        super().__init__(reason)
        self.event_id = event_id
        self.reason = reason

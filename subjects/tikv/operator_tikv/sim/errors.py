"""The one error the model raises: PD-style, turned by the HTTP layer into a status and body."""


class SimError(Exception):
    """A PD-style failure: ``status`` is the HTTP code, ``message`` the Go error text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

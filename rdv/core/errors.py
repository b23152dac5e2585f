class DomainError(Exception):
    """A business rule refused an operation. `message` is French and shown to the user as is;
    `code` is stable and meant for the API and tests."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

"""Named errors, so the CLI and the HTTP API map them to clear messages in one place."""


class RagError(Exception):
    """Base class: anything the user can act on, shown without a traceback."""


class LoadError(RagError):
    """A file could not be turned into text; it is skipped, the rest is indexed."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class LoadWarning(UserWarning):
    """A file was indexed without some of its content (e.g. scanned pages with no OCR engine installed)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexNotFoundError(RagError):
    """Searching or asking before anything was indexed."""


class DocumentNotFoundError(RagError):
    """Removing a document the index doesn't hold."""


class UnknownSourceError(RagError):
    """A question scoped to documents by a pattern that matches no indexed document."""


class InvalidTestSetError(RagError):
    """A test set that can't be read: the message names the file and the line."""


class IndexLockedError(RagError):
    """Another process kept the index folder locked for longer than RAG_LOCK_TIMEOUT."""

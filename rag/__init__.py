"""rag: question answering over a folder of documents, every sentence cited to a verbatim span."""

__version__ = "0.1.0"

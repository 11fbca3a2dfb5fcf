"""The Gradio web UI: a thin face over rag.service.Rag (the core never imports this package)."""

"""Answering: extractive (default) or an LLM, both ending in verified citations or an abstention."""

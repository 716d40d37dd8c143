"""Temporary decompressed copies, for the formats that need a real file (docs/formats.md).

Parquet is read at random offsets and Telegram Desktop's result.json once
per chat: such a compressed input is decompressed to a file in the case's
own folder, under the input's cap, read, and deleted. The copy's name
starts with ``.swarmscope-unpacked-PID-`` (a folder walk skips it); a copy
whose process is gone (an ingest killed) is deleted by ``sweep``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .compressed import Packed

_BLOCK = 8 << 20


def materialise(packed: Packed, folder: Path) -> None:
    """Decompress ``packed`` to a temporary file in ``folder`` (the case's), under its cap.

    The copy's name starts with ``.swarmscope-unpacked-`` (a folder walk skips
    it); ``release`` deletes it. OSError (a full disk) goes to the caller.
    """
    fd, name = tempfile.mkstemp(prefix=f".swarmscope-unpacked-{os.getpid()}-", suffix=packed.suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, packed.open() as src:
            while block := src.read(_BLOCK):
                out.write(block)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    packed.local = Path(name)


def release(packed: Packed) -> None:
    if packed.local is not None:
        packed.local.unlink(missing_ok=True)
        packed.local = None


def sweep(folder: Path) -> None:
    """Delete copies left by an ingest that was killed (their process is gone)."""
    for f in folder.glob(".swarmscope-unpacked-*"):
        try:
            pid = int(f.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid() or _alive(pid):
            continue
        f.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""Which files an ingest reads: the paths given, folders walked, and what is not read and why.

Rules (docs/formats.md, "Folders"):

- a path named on the command line is read as it is (a symlink named there
  is followed: the analyst named it);
- a folder is walked without following symlinks out of it: a symlink whose
  target lies outside the folder given (or is missing, or loops) is not
  read, and a symlink to a folder is not descended (its target, when
  inside, is walked where it is). A symlink to a regular file inside the
  folder is read under the symlink's name;
- only regular files are read: a FIFO, socket or device would block the
  reader or never end, so it is not opened at all;
- files whose name starts with "." are skipped (editor and OS droppings).

Everything not read (but hidden files) comes back with its reason, so the
ingest reports it (a quarantine row, a line in the summary) instead of
dropping it silently.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .base import IngestError


@dataclass(frozen=True)
class Input:
    path: Path
    skip: str | None = None  # why it is not read; None: read it


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def walk(paths: list[str | Path]) -> list[Input]:
    """The inputs of ``paths``, in order (a folder's files sorted); IngestError for a path that does not exist."""
    out: list[Input] = []
    for p in map(Path, paths):
        try:
            st = p.stat()  # follows a symlink: a path named by the analyst is what they meant
        except FileNotFoundError:
            if p.is_symlink():
                out.append(Input(p, f"broken symlink (to {os.readlink(p)}): not read"))
                continue
            raise IngestError(f"{p}: no such file or directory") from None
        except OSError as e:
            out.append(Input(p, f"cannot read ({e.strerror}): not read"))
            continue
        if stat.S_ISDIR(st.st_mode):
            out.extend(_walk_folder(p))
        elif stat.S_ISREG(st.st_mode):
            out.append(Input(p))
        else:
            out.append(Input(p, f"{_kind(st.st_mode)}, not a regular file: not read"))
    return out


def _walk_folder(root: Path) -> list[Input]:
    real_root = root.resolve()
    found: list[Input] = []

    def unlisted(e: OSError) -> None:
        found.append(Input(Path(e.filename or root), f"cannot list the folder ({e.strerror}): not read"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlisted, followlinks=False):
        here = Path(dirpath)
        for name in dirnames:  # os.walk lists a symlink to a folder here and does not descend it
            full = here / name
            if not name.startswith(".") and full.is_symlink():
                found.append(_symlink(full, root, real_root))
        for name in filenames:
            if name.startswith("."):
                continue
            full = here / name
            try:
                mode = os.lstat(full).st_mode
            except OSError as e:
                found.append(Input(full, f"cannot read ({e.strerror}): not read"))
                continue
            if stat.S_ISLNK(mode):
                found.append(_symlink(full, root, real_root))
            elif stat.S_ISREG(mode):
                found.append(Input(full))
            else:
                found.append(Input(full, f"{_kind(mode)}, not a regular file: not read"))
    return sorted(found, key=lambda i: i.path)


def _symlink(link: Path, root: Path, real_root: Path) -> Input:
    target = os.readlink(link)
    try:
        real = link.resolve(strict=True)
        mode = real.stat().st_mode
    except (OSError, RuntimeError):  # missing target, a loop
        return Input(link, f"broken symlink (to {target}): not read")
    if not real.is_relative_to(real_root):
        return Input(link, f"symlink to {target}, outside the input folder {root}: not followed")
    if stat.S_ISDIR(mode):
        return Input(link, "symlink to a folder: not followed (a folder inside is read where it is)")
    if not stat.S_ISREG(mode):
        return Input(link, f"symlink to {_kind(mode)}, not a regular file: not read")
    return Input(link)

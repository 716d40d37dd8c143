"""Compressed inputs and archives: ``.gz``, ``.zst`` and ``.zip``, read as streams.

A file is recognised by its first bytes, whatever its name: gzip
(``1f 8b``), zstd (``28 b5 2f fd``) or zip (``PK 03 04``, or an empty
archive's ``PK 05 06``). A gzip or zstd file is one input; each member of
a zip archive is one input. Such an input reaches the importers as a
``Packed`` (it stands where a ``Path`` stands: ``str()`` is the name the
rows record, ``.name``/``.suffix`` are the inner file's, ``.stat()`` gives
a size for progress), and every importer opens it with ``open_input``:

- gzip is decompressed by Python's ``gzip``, zstd by pyarrow's
  ``CompressedInputStream`` (no new dependency), a zip member by
  ``zipfile``; nothing is ever
  decompressed whole into memory, and a zip member is never extracted to
  disk. The stream is seekable for the importers that read a file twice
  (a JSON document: a scan, then its records): a seek forward reads on, a
  seek back starts the decompression again.
- Damaged or cut-short compressed data ends the stream where the damage
  is, as if the file ended there (the importer reads the records before
  it as it reads a cut file); ``Packed.problem`` then names the file and
  the byte, and ingest stores it as one quarantine row.
- A cap on the decompressed size (``decompression_cap``) guards against
  compression bombs: past it, the stream ends the same way, with the cap
  and the input named. A zip member whose declared size is over its cap is
  not opened at all.
- Nested archives are not opened: a member or a decompressed file that is
  itself gzip, zstd or zip data is reported (``nested_reason``), never
  unpacked (a bomb's favourite shape: 42.zip).
- Formats that need a real file (Parquet, read by pyarrow at random
  offsets; Telegram Desktop's result.json, read once per chat) are
  decompressed to a temporary file in the case's own folder
  (unpacked.py), under the same cap, and deleted after reading.

Member names are only names: ``export.zip!../../etc/passwd`` is read from
the archive like any other member, and nothing is written where it points.
"""

from __future__ import annotations

import gzip
import io
import lzma
import stat
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import pyarrow as pa

from .base import IngestError, ReadOptions

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

# The default cap on what one compressed input may decompress to: 100 times its compressed
# size, and never less than 256 MiB (a small, very repetitive export is fine). Text exports
# compress 5-30x (zstd -19 on repetitive CSV reaches about 40x); a deflate bomb reaches about
# 1,000x, and a zstd one far more. ReadOptions.max_decompressed_bytes replaces the rule.
MAX_RATIO = 100
RATIO_FLOOR = 256 << 20
# Members of one archive read at most (each is an input with its own counts and rows).
MAX_MEMBERS = 100_000
# What a decompressor raises on damaged or cut-short data (and a zip member's bad local header).
# (bz2 raises OSError; anything else a decompressor raises is damage too, but MemoryError.)
_DAMAGE = (
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    ValueError,
    NotImplementedError,
    RuntimeError,
    pa.ArrowException,
)
_SUFFIXES = (".gz", ".gzip", ".zst", ".zstd")
_STEP = 1 << 20
_ZSTD_READ = 64 << 10


def decompression_cap(compressed_size: int, options: ReadOptions) -> int:
    """The most ``compressed_size`` bytes of compressed data may decompress to."""
    if options.max_decompressed_bytes is not None:
        return options.max_decompressed_bytes
    return max(RATIO_FLOOR, MAX_RATIO * compressed_size)


def _cap_rule(options: ReadOptions) -> str:
    if options.max_decompressed_bytes is not None:
        return "max_decompressed_bytes"
    return f"{MAX_RATIO} times the compressed size, at least {RATIO_FLOOR >> 20} MiB"


def codec_of(head: bytes) -> str | None:
    """'gzip', 'zstd', 'zip' or None, from a file's first bytes."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(ZIP_MAGICS):
        return "zip"
    return None


@dataclass
class _Stat:
    st_size: int


class Packed:
    """One input inside a compressed file or a zip archive; stands where the importers take a Path."""

    def __init__(
        self,
        container: Path,
        codec: str,
        name: str,
        cap: int,
        cap_rule: str,
        member: zipfile.ZipInfo | None = None,
        archive: zipfile.ZipFile | None = None,
        share: int = 0,
    ):
        self.container = container  # the file as given: hashed for the run manifest
        self.codec = codec
        self.name = name  # the inner file's name (a member's last part, or the file's without .gz)
        self.cap = cap
        self.cap_rule = cap_rule
        self.member = member
        self.archive = archive
        self.share = share  # bytes of the container this input stands for, for the progress bar
        self.problem: str | None = None  # the first damage or cap met while decompressing
        self.local: Path | None = None  # a decompressed copy, for the formats that need a real file
        self._lock = threading.Lock()
        self._read = 0  # bytes of ``share`` its readers have consumed so far (``progress``)

    def __str__(self) -> str:
        if self.member is not None:
            return f"{self.container}!{self.member.filename}"
        return str(self.container)

    def __repr__(self) -> str:
        return f"Packed({str(self)!r}, {self.codec})"

    def __fspath__(self) -> str:  # only a real copy is a path; an unconverted open() must fail loudly
        if self.local is None:
            raise TypeError(f"{self} is compressed: open it with ingest.compressed.open_input")
        return str(self.local)

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem

    def stat(self) -> _Stat:
        """The decompressed size where the archive states it, else the compressed size (progress only)."""
        if self.local is not None:
            return _Stat(self.local.stat().st_size)
        if self.member is not None:
            return _Stat(self.member.file_size)
        return _Stat(self.container.stat().st_size)

    def progress(self) -> int:
        """How much of ``share`` its readers have read so far: the compressed file's offset (a gzip,
        zstd, ... file), or the member's decompressed fraction of its share (zip). For the bar only."""
        return min(self._read, self.share)

    def _reached(self, stream: _Stream) -> None:
        if stream.raw is not None:
            try:
                at = stream.raw.tell()  # type: ignore[attr-defined]
            except (OSError, ValueError):
                return
        elif self.member is not None and self.member.file_size:
            at = self.share * stream.pos // self.member.file_size
        else:
            return
        if at > self._read:
            self._read = at

    def note(self, problem: str) -> None:
        with self._lock:
            if self.problem is None:
                self.problem = problem

    def open(self) -> BinaryIO:
        if self.local is not None:
            return open(self.local, "rb")
        return io.BufferedReader(_Stream(self), buffer_size=_STEP)  # type: ignore[return-value]

    def _raw(self) -> tuple[object, object | None]:
        """(decompressed stream, compressed file for offsets), positioned at the start."""
        if self.member is not None:
            assert self.archive is not None
            return self.archive.open(self.member), None
        if self.codec == "gzip":  # Python's gzip hands out every byte before a cut, then raises
            fh = open(self.container, "rb")
            return gzip.GzipFile(fileobj=fh, mode="rb"), fh
        # pyarrow decodes what one read of the compressed file brings and drops all of it when it meets
        # damage: fed 16 KiB at a time, it keeps nearly everything before the damage (no slower)
        raw = _Trickle(self.container)
        return pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), self.codec), raw


class _Trickle(io.RawIOBase):
    """A file read at most 16 KiB at a time, for pyarrow's decompressor (see ``Packed._raw``)."""

    def __init__(self, path: Path):
        self.fh = open(path, "rb", buffering=0)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        return self.fh.readinto(memoryview(b)[: 16 << 10]) or 0

    def tell(self) -> int:
        return self.fh.tell()

    def close(self) -> None:
        self.fh.close()
        super().close()


def open_input(path: Path | Packed) -> BinaryIO:
    """The input's bytes, decompressed where it is compressed: what every importer reads."""
    if isinstance(path, Packed):
        return path.open()
    return open(path, "rb")


def local_path(path: Path | Packed) -> Path:
    """A real file holding the input's bytes (``materialise`` made it for a Packed input)."""
    if isinstance(path, Packed):
        if path.local is None:
            raise IngestError(f"{path}: this format needs a real file and none was unpacked")
        return path.local
    return path


def is_packed(path: object) -> bool:
    return isinstance(path, Packed)


class _Stream(io.RawIOBase):
    """The decompressed bytes of a Packed input: capped, damage read as the end, seekable."""

    def __init__(self, packed: Packed):
        self.packed = packed
        self.pos = 0
        self.done = False
        self.src: object | None = None
        self.raw: object | None = None
        self._start()

    def _start(self) -> None:
        self.pos, self.done = 0, False
        try:
            self.src, self.raw = self.packed._raw()
        except _DAMAGE as e:
            self.src = self.raw = None
            self.done = True
            self.packed.note(self._damage(e))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        if self.done or not len(b):
            return 0
        p = self.packed
        # pyarrow drops what one read decoded when it meets damage: small reads lose little of it
        want = min(len(b), p.cap + 1 - self.pos, _ZSTD_READ if p.codec == "zstd" else _STEP)
        try:
            # read1: one step of the decompressor; a read(n) that meets damage loses what it had gathered
            data = getattr(self.src, "read1", self.src.read)(want)
        except _DAMAGE as e:
            self.done = True
            p.note(self._damage(e))
            return 0
        if not data:
            self.done = True
            return 0
        if self.pos + len(data) > p.cap:
            data = data[: p.cap - self.pos]
            self.done = True
            p.note(
                f"{p}: decompressed size passes the cap of {p.cap:,} bytes ({p.cap_rule}); reading stopped "
                "there, as at the end of the file (a compression bomb? a larger cap: max_decompressed_bytes)"
            )
        n = len(data)
        b[:n] = data
        self.pos += n
        p._reached(self)
        return n

    def _damage(self, e: BaseException) -> str:
        p = self.packed
        where = f"at decompressed byte {self.pos:,}"
        if self.raw is not None:
            try:
                where += f" (compressed byte {self.raw.tell():,} of {p.container.stat().st_size:,})"  # type: ignore[attr-defined]
            except (OSError, ValueError):
                pass
        elif p.member is not None:
            where += f" (member of {p.member.compress_size:,} compressed bytes)"
        return (
            f"{p}: compressed data damaged or cut short {where}: {type(e).__name__}: {str(e)[:200]}; "
            "the records before that point were read, the rest of the file was not"
        )

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self.pos
        elif whence == io.SEEK_END:
            raise io.UnsupportedOperation("a compressed input has no known end to seek from")
        if offset < self.pos:  # back: decompress again from the start
            self._close_src()
            self._start()
        buf = bytearray(_STEP)
        while self.pos < offset and not self.done:
            view = memoryview(buf)[: min(_STEP, offset - self.pos)]
            if not self.readinto(view):
                break
        return self.pos

    def _close_src(self) -> None:
        for f in (self.src, self.raw):
            if f is None:
                continue
            try:
                f.close()  # type: ignore[attr-defined]
            except (OSError, ValueError, AttributeError):
                pass

    def close(self) -> None:
        if not self.closed:
            self._close_src()
        super().close()


def nested_reason(path: Path | Packed, head: bytes) -> str | None:
    """Why a decompressed input is not read further: it is itself compressed or an archive."""
    if not isinstance(path, Packed):
        return None
    inner = codec_of(head)
    if inner is None:
        if len(head) > 262 and head[257:262] == b"ustar":
            return (
                "a tar archive: not read (tar is not supported); unpack it and ingest the folder "
                "(or zip it: each member of a .zip is read)"
            )
        return None
    return (
        f"a nested archive ({inner} data inside {path.codec}): not read, archives are unpacked one level "
        "only (a compression bomb's favourite shape); unpack the outer one and ingest the inner file"
    )


@dataclass(frozen=True)
class Entry:
    """What ``expand`` makes of one file: a plain file, a Packed input, or a member not read and why."""

    path: Path | Packed
    skip: str | None = None


def expand(path: Path, options: ReadOptions) -> tuple[list[Entry], zipfile.ZipFile | None]:
    """The inputs of one regular file: itself, its decompressed stream, or its archive's members.

    Returns the entries and the open archive (the caller closes it once its
    members are read). Members are read in name order; folders, hidden
    names and ``__MACOSX/`` resource forks are left out, as a folder walk
    leaves out hidden files. Not read, each with its reason: encrypted
    members, symlinks stored in the archive, members over the cap (their
    declared size, and the archive's total), members past ``MAX_MEMBERS``.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
        size = path.stat().st_size
    except OSError:
        return [Entry(path)], None  # the reader names the error
    codec = codec_of(head)
    if codec is None:
        return [Entry(path)], None
    rule = _cap_rule(options)
    if codec in ("gzip", "zstd"):
        name = path.name
        for s in _SUFFIXES:
            if name.lower().endswith(s) and len(name) > len(s):
                name = name[: -len(s)]
                break
        return [Entry(Packed(path, codec, name, decompression_cap(size, options), rule, share=size))], None
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        return [
            Entry(
                path,
                f"not a readable zip archive ({type(e).__name__}: {e}; a zip cut short loses its "
                "list of members, which is at its end): not read",
            )
        ], None
    out: list[Entry] = []
    budget = decompression_cap(size, options)  # the whole archive's (bombs of overlapping members)
    members = sorted((i for i in infos if not _hidden(i)), key=lambda i: i.filename)
    shares = 0
    for k, info in enumerate(members):
        display = f"{path}!{info.filename}"
        if k >= MAX_MEMBERS:
            out.append(Entry(_Name(display), f"more than {MAX_MEMBERS:,} members in the archive: not read"))
            continue
        cap = decompression_cap(info.compress_size, options)
        mode = info.external_attr >> 16
        if info.flag_bits & 0x1:
            skip = "an encrypted zip member: not read (decrypt the archive first)"
        elif mode and stat.S_ISLNK(mode):
            skip = "a symlink stored in the archive: not followed"
        elif info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            skip = f"compression method {info.compress_type} is not supported (deflate64?): not read"
        elif info.file_size > cap:
            skip = (
                f"{display} declares {info.file_size:,} bytes decompressed from {info.compress_size:,}, "
                f"more than the cap of {cap:,} bytes ({rule}): not read "
                "(a compression bomb? a larger cap: max_decompressed_bytes)"
            )
        elif info.file_size > budget:
            skip = (
                f"{display} declares {info.file_size:,} bytes decompressed; with the members before it, "
                f"the archive passes its cap of {decompression_cap(size, options):,} bytes ({rule}): "
                "not read (a compression bomb of overlapping members? a larger cap: max_decompressed_bytes)"
            )
        else:
            skip = None
        if skip is not None:
            out.append(Entry(_Name(display), skip))
            continue
        budget -= info.file_size
        share = info.compress_size
        shares += share
        name = PurePosixPath(info.filename.replace("\\", "/")).name or info.filename
        out.append(Entry(Packed(path, "zip", name, cap, rule, member=info, archive=zf, share=share)))
    if not out:  # nothing in it to read: say so, rather than list nothing
        return [Entry(path, "a zip archive with no files in it (only folders or hidden names): nothing read")], zf
    first = next((e.path for e in out if isinstance(e.path, Packed)), None)
    if first is not None:
        first.share += max(0, size - shares)  # the archive's headers: counted with its first member
    return out, zf


class _Name(PurePosixPath):
    """The name of a member that is not read (for its quarantine row); never opened."""


def _hidden(info: zipfile.ZipInfo) -> bool:
    name = info.filename.replace("\\", "/")
    if info.is_dir() or name.endswith("/"):
        return True
    parts = [p for p in name.split("/") if p]
    return not parts or parts[0] == "__MACOSX" or parts[-1].startswith(".")

"""Perceptual hashes of the media files an input carries (enrichment: this reads files).

One 64-bit pHash per still image, one per key frame of a video (first
``KEY_FRAMES`` key frames, only where ``ffmpeg`` is on PATH; elsewhere a
video gets an error row saying so and is counted, never silently dropped).
Unreadable files, non-images and decompression bombs (over ``MAX_PIXELS``)
become rows with the reason. Clustering the hashes is detect/images.py.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".3gp", ".mpg", ".mpeg", ".gif.mp4"}
KEY_FRAMES = 5  # key frames hashed per video, from the start
MAX_PIXELS = 60_000_000  # larger images are refused (decompression bombs)

HASHES = pa.schema(
    [
        ("path", pa.string()),
        ("frame", pa.int64()),  # NULL for a still image; key-frame number for a video
        ("phash", pa.string()),  # 16 hex digits; NULL when not hashed
        ("error", pa.string()),  # why not hashed
    ]
)


def video_support() -> str | None:
    """Path of the ffmpeg used for video key frames, or None: videos are then not hashed."""
    return shutil.which("ffmpeg")


def hash_images(paths: Sequence[str]) -> pa.Table:
    """pHash of each file (one row per image, one per key frame of a video); errors as rows."""
    import imagehash
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    out: dict[str, list] = {"path": [], "frame": [], "phash": [], "error": []}

    def add(path: str, frame: int | None, phash: str | None, error: str | None) -> None:
        out["path"].append(path)
        out["frame"].append(frame)
        out["phash"].append(phash)
        out["error"].append(error)

    ffmpeg = video_support()
    for path in paths:  # one file at a time: decoding images is per file anyway
        if Path(path).suffix.lower() in VIDEO_SUFFIXES:
            if ffmpeg is None:
                add(path, None, None, "video not hashed: key frames need ffmpeg, which is not on PATH")
                continue
            try:
                frames = _key_frames(ffmpeg, path)
            except (OSError, subprocess.SubprocessError) as e:
                add(path, None, None, f"video not hashed: ffmpeg failed: {e}")
                continue
            if not frames:
                add(path, None, None, "video not hashed: no key frame decoded")
            for i, frame in enumerate(frames):
                add(path, i, str(imagehash.phash(frame)), None)
            continue
        try:
            with Image.open(path) as img:
                add(path, None, str(imagehash.phash(img)), None)
        except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as e:
            add(path, None, None, f"not an image or unreadable: {type(e).__name__}: {e}")
    return pa.table(out, schema=HASHES)


def _key_frames(ffmpeg: str, path: str) -> list:
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                ffmpeg,
                "-v",
                "error",
                "-skip_frame",
                "nokey",
                "-i",
                path,
                "-vsync",
                "vfr",
                "-frames:v",
                str(KEY_FRAMES),
                str(Path(tmp) / "f%03d.png"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        frames = []
        for f in sorted(Path(tmp).glob("f*.png")):
            with Image.open(f) as img:
                frames.append(img.copy())
        return frames

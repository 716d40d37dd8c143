"""Reused images (detect/images.py): generated pictures, edited copies, unrelated ones."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image, ImageDraw, ImageFilter

from swarmscope import model
from swarmscope.detect.images import ImageParams, cluster_images
from swarmscope.duplicates import duplicates
from swarmscope.enrich.media import hash_images, video_support
from swarmscope.store import Case


def picture(seed: int, size=(480, 360)) -> Image.Image:
    """A blurred composition of random shapes: photo-like low frequencies, distinct per seed."""
    r = np.random.default_rng(seed)
    img = Image.new("RGB", size, tuple(int(x) for x in r.integers(0, 255, 3)))
    d = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = int(r.integers(0, size[0])), int(r.integers(0, size[1]))
        w, h = (int(v) for v in r.integers(40, 200, 2))
        col = tuple(int(x) for x in r.integers(0, 255, 3))
        (d.ellipse if r.random() < 0.5 else d.rectangle)([x0, y0, x0 + w, y0 + h], fill=col)
    return img.filter(ImageFilter.GaussianBlur(2))


def recompressed(img: Image.Image, quality: int = 30) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def cropped(img: Image.Image, share: float = 0.01) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * share), int(h * share)
    return img.crop((dx, dy, w - dx, h - dy))


def captioned(img: Image.Image) -> Image.Image:
    img = img.copy()
    ImageDraw.Draw(img).text((20, 20), "BREAKING: SHARE BEFORE THEY DELETE IT", fill=(255, 255, 255))
    return img


@pytest.fixture()
def files(tmp_path):
    paths = {}
    for seed in (1, 2):
        base = picture(seed)
        for name, img in [
            ("orig", base),
            ("jpeg", recompressed(base)),
            ("crop", cropped(base)),
            ("caption", captioned(base)),
            ("all", recompressed(captioned(cropped(base)), 50)),
            ("small", base.resize((240, 180))),
        ]:
            p = tmp_path / f"s{seed}_{name}.{'jpg' if name in ('jpeg', 'all') else 'png'}"
            img.save(p)
            paths[f"s{seed}_{name}"] = str(p)
    for seed in range(10, 16):
        p = tmp_path / f"other{seed}.png"
        picture(seed).save(p)
        paths[f"other{seed}"] = str(p)
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    paths["broken"] = str(tmp_path / "broken.jpg")
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    paths["video"] = str(tmp_path / "clip.mp4")
    return paths


def test_edited_copies_cluster_and_unrelated_do_not(files):
    keys = [k for k in files if k not in ("broken", "video")]
    hashes = hash_images([files[k] for k in keys])
    assert hashes["error"].null_count == len(keys)
    clusters, members = cluster_images(keys, hashes["phash"])
    by_key = dict(zip(members["key"].to_pylist(), members["cluster_id"].to_pylist()))
    for seed in (1, 2):
        family = {by_key.get(f"s{seed}_{v}") for v in ("orig", "jpeg", "crop", "caption", "all", "small")}
        assert len(family) == 1 and None not in family
    assert by_key["s1_orig"] != by_key["s2_orig"]
    assert not any(k.startswith("other") for k in by_key)
    assert clusters.num_rows == 2
    assert all(d <= 8 for d in members["distance"].to_pylist())
    assert sorted(clusters["images"].to_pylist()) == [6, 6]


def test_threshold_zero_keeps_only_identical_hashes(files):
    keys = ["s1_orig", "s1_small", "s1_caption", "other10"]
    hashes = hash_images([files[k] for k in keys])
    _, members = cluster_images(keys, hashes["phash"], ImageParams(max_distance=0))
    assert set(members["distance"].to_pylist()) <= {0}


def test_unreadable_files_and_videos_are_rows_with_reasons(files):
    out = hash_images([files["broken"], files["video"], files["s1_orig"]]).to_pylist()
    assert out[0]["phash"] is None and "not an image" in out[0]["error"]
    if video_support() is None:
        assert out[1]["phash"] is None and "ffmpeg" in out[1]["error"]
    assert out[2]["phash"] is not None and len(out[2]["phash"]) == 16


def test_null_hashes_are_skipped():
    clusters, members = cluster_images(["a", "b", "c"], [None, "ffffffffffffffff", "fffffffffffffffe"])
    assert members["key"].to_pylist() == ["b", "c"] and clusters.num_rows == 1


@pytest.mark.scale
def test_scale_random_hashes_pairs_exact():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**63, 3000, dtype=np.uint64)
    near = base[:300] ^ (np.uint64(1) << rng.integers(0, 64, 300).astype(np.uint64))  # one bit flipped
    hashes = [f"{int(v):016x}" for v in np.concatenate((base, near))]
    clusters, members = cluster_images([str(i) for i in range(len(hashes))], hashes)
    by_key = dict(zip(members["key"].to_pylist(), members["cluster_id"].to_pylist()))
    assert all(by_key.get(str(i)) == by_key.get(str(3000 + i)) is not None for i in range(300))
    # random 64-bit hashes are ~32 bits apart: no other pair is within 8
    assert clusters.num_rows == 300


def test_library_hashes_media_relative_to_source_file(tmp_path, files):
    t0 = dt.datetime(2024, 3, 1, 12, 0)
    media = [["s1_orig.png"], ["s1_jpeg.jpg"], ["s1_caption.png"], ["other10.png"], ["https://x/y.jpg"], None]
    posts = pa.table(
        {
            "platform": ["telegram"] * 6,
            "post_id": [str(i) for i in range(6)],
            "account_id": ["a", "b", "c", "d", "e", "f"],
            "created_at": pa.array([t0 + dt.timedelta(seconds=30 * i) for i in range(6)], model.TS),
            "text": [None] * 6,
            "kind": ["post"] * 6,
            "media": pa.array(media, model.STR_LIST),
            "source_file": [str(tmp_path / "result.json")] * 6,
        }
    )
    with Case(tmp_path / "c.duckdb") as case:
        case.append(posts=posts)
    clusters = duplicates(tmp_path / "c.duckdb")
    img = [r for r in clusters.to_pylist() if r["kind"] == "image"]
    assert len(img) == 1 and img[0]["posts_list"] == ["telegram:0", "telegram:1", "telegram:2"]
    assert img[0]["accounts"] == 3
    with Case(tmp_path / "c.duckdb") as case:
        rows = case.con.execute("SELECT object_type, count(*) FROM actions GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("image_cluster", 3), ("image_hash", 4)]

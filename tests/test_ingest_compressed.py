"""Compressed inputs and archives (.gz, .zst, .zip), and the store's errors caught per file.

Fixtures are the plain files of tests/fixtures, compressed here; the
broken and hostile archives are built in each test, small enough to check
by hand (docs/formats.md, "Compressed inputs and archives";
docs/reliability.md).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from swarmscope.cli import app
from swarmscope.ingest import ReadOptions, explain, ingest, unpacked
from swarmscope.ingest import compressed as cz

FIX = Path(__file__).parent / "fixtures"
runner = CliRunner()

# one fixture per reading path: JSON lines (x_v2's exact path), CSV, a JSON document read twice
# (youtube: scan, then records), Telegram Desktop (unpacked to a temporary file), JSON lines of
# another reader (telethon_json)
PLAIN = [
    "x_v2/page.jsonl",
    "x_archive/tweets.csv",
    "youtube/videos.json",
    "telegram/channel_result.json",
    "telegram/todict_lines.jsonl",
]


def _zstd(data: bytes) -> bytes:
    return pa.compress(data, "zstd", asbytes=True)


def _rows(case: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(case), read_only=True) as con:
        return con.execute(sql).fetchall()


def _ingest(case: Path, paths: list, options: ReadOptions | None = None, fmt: str | None = None):
    out = ingest(case, paths, format=fmt, options=options, progress=False, enrich=False)
    for r in out:
        assert r.records == r.inserted + r.duplicates + r.quarantined, r
    return out


def _tweets(n: int) -> bytes:
    """``n`` bare X v2 tweets, one per line (about 120 bytes each)."""
    return b"".join(
        json.dumps(
            {
                "id": str(i),
                "author_id": str(10 + i % 7),
                "created_at": f"2024-01-01T00:00:{i % 60:02d}.000Z",
                "text": f"hello number {i} " + "abc" * (i % 13),
            }
        ).encode()
        + b"\n"
        for i in range(1, n + 1)
    )


def _posts(case: Path) -> list[tuple]:
    return _rows(case, "SELECT post_id, account_id, created_at, text, kind, source_record FROM posts ORDER BY ALL")


def _quarantine(case: Path) -> list[tuple]:
    return _rows(case, "SELECT record, reason, excerpt FROM quarantine ORDER BY ALL")


# -- the same rows as the plain file -------------------------------------------------------------


@pytest.mark.parametrize("codec", ["gzip", "zstd", "zip"])
def test_compressed_inputs_store_the_same_rows_as_the_plain_files(tmp_path, codec):
    for rel in PLAIN:
        src = FIX / rel
        data = src.read_bytes()
        work = tmp_path / rel.replace("/", "_")
        work.mkdir()
        if codec == "gzip":
            packed = work / f"{src.name}.gz"
            packed.write_bytes(gzip.compress(data))
            name = str(packed)
        elif codec == "zstd":
            packed = work / f"{src.name}.zst"
            packed.write_bytes(_zstd(data))
            name = str(packed)
        else:
            packed = work / "export.zip"
            with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(f"inner/{src.name}", data)
            name = f"{packed}!inner/{src.name}"
        (plain,) = _ingest(work / "plain.duckdb", [src])
        (got,) = _ingest(work / "packed.duckdb", [packed])
        assert got.path == name
        assert (got.format, got.records, got.inserted, got.duplicates, got.quarantined) == (
            plain.format,
            plain.records,
            plain.inserted,
            plain.duplicates,
            plain.quarantined,
        ), rel
        assert _posts(work / "packed.duckdb") == _posts(work / "plain.duckdb"), rel
        assert _quarantine(work / "packed.duckdb") == _quarantine(work / "plain.duckdb"), rel
        # provenance: rows name the archive and the member; the manifest hashes the file as given
        assert _rows(work / "packed.duckdb", "SELECT DISTINCT source_file FROM posts") == [(name,)]
        assert got.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()
        (inputs,) = _rows(work / "packed.duckdb", "SELECT inputs FROM runs")[0]
        assert json.loads(inputs)[0]["sha256"] == got.sha256
        # nothing unpacked is left beside the case (Telegram Desktop was read from a temporary copy)
        assert not list(work.glob(".swarmscope-unpacked-*"))


def test_the_file_name_does_not_matter_the_magic_bytes_do(tmp_path):
    odd = tmp_path / "tweets.dat"  # gzip data without .gz
    odd.write_bytes(gzip.compress((FIX / "x_v2/page.jsonl").read_bytes()))
    (r,) = _ingest(tmp_path / "c.duckdb", [odd])
    assert (r.format, r.inserted) == ("x_v2", 4)


def test_reingesting_compressed_inputs_stores_nothing_twice(tmp_path):
    gz = tmp_path / "page.jsonl.gz"
    gz.write_bytes(gzip.compress((FIX / "x_v2/page.jsonl").read_bytes()))
    zp = tmp_path / "export.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.write(FIX / "youtube/videos.json", "videos.json")
    case = tmp_path / "c.duckdb"
    first = _ingest(case, [gz, zp])
    posts, quarantine = _posts(case), _quarantine(case)
    second = _ingest(case, [gz, zp])
    assert _posts(case) == posts and _quarantine(case) == quarantine
    assert [r.inserted for r in second] == [0, 0]
    assert [r.duplicates for r in second] == [r.inserted for r in first]


# -- zip archives: members, names, what is not read ---------------------------------------------


def test_zip_members_are_inputs_and_a_dotdot_member_is_just_a_name(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    zp = folder / "export.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(FIX / "x_v2/page.jsonl", "data/page.jsonl")
        zf.write(FIX / "x_archive/tweets.csv", "../../escape/tweets.csv")
        zf.writestr("folder/", b"")
        zf.writestr(".DS_Store", b"junk")
        zf.writestr("__MACOSX/data/._page.jsonl", b"junk")
        zf.writestr("README.txt", b"what these files are\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    case = tmp_path / "c.duckdb"
    results = _ingest(case, [folder])
    got = {r.path: (r.format, r.inserted, r.quarantined) for r in results}
    assert got == {
        f"{zp}!../../escape/tweets.csv": ("x_archive", 4, 0),
        f"{zp}!README.txt": ("unknown", 0, 1),
        f"{zp}!data/page.jsonl": ("x_v2", 4, 3),
    }
    # read from the archive, never extracted: no new file but the case's own
    after = sorted(p.name for p in tmp_path.rglob("*"))
    assert set(after) - set(before) <= {"c.duckdb", "c.duckdb.wal", "c.duckdb.owner"}
    assert not (tmp_path.parent / "escape").exists()
    assert _rows(case, f"SELECT count(*) FROM posts WHERE source_file = '{zp}!../../escape/tweets.csv'") == [(4,)]
    # a README inside a folder's archive is a warning, as beside the exports in the folder
    errors, warnings = explain(results, case, named=[folder])
    assert not errors and any("README.txt: not read, in no known format" in w for w in warnings)


def test_a_nested_archive_is_reported_not_opened(tmp_path):
    inner = gzip.compress((FIX / "x_v2/page.jsonl").read_bytes())
    zp = tmp_path / "outer.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("page.jsonl.gz", inner)
        zf.writestr("more.zip", b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    gz = tmp_path / "double.jsonl.gz.gz"
    gz.write_bytes(gzip.compress(inner))
    results = _ingest(tmp_path / "c.duckdb", [zp, gz])
    assert [r.format for r in results] == ["unknown"] * 3
    for r in results:
        assert "a nested archive" in r.reasons[0][0] and "unpacked one level only" in r.reasons[0][0]
    assert "(gzip data inside zip)" in results[1].reasons[0][0]
    assert "(zip data inside zip)" in results[0].reasons[0][0]


def test_an_empty_zip_is_one_row_not_silence(tmp_path):
    zp = tmp_path / "empty.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("folder/", b"")
        zf.writestr(".hidden", b"x")
    case = tmp_path / "c.duckdb"
    (r,) = _ingest(case, [zp])
    assert (r.path, r.format) == (str(zp), "skipped") and "no files in it" in r.reasons[0][0]
    errors, _ = explain([r], case, named=[zp])
    assert errors


def test_a_zip_cut_short_is_one_row_naming_it(tmp_path):
    zp = tmp_path / "export.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(FIX / "x_v2/page.jsonl", "page.jsonl")
    data = zp.read_bytes()
    zp.write_bytes(data[: len(data) // 2])  # the list of members is at the end: gone
    good = tmp_path / "good.jsonl"
    good.write_bytes((FIX / "x_v2/page.jsonl").read_bytes())
    case = tmp_path / "c.duckdb"
    bad, ok = _ingest(case, [zp, good])
    assert bad.format == "skipped" and "not a readable zip archive" in bad.reasons[0][0]
    assert ok.inserted == 4
    errors, _ = explain([bad], case, named=[zp])
    assert errors and str(zp) in errors[0]


def test_an_encrypted_member_and_a_stored_symlink_are_not_read(tmp_path):
    zp = tmp_path / "export.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.write(FIX / "x_v2/page.jsonl", "page.jsonl")
        link = zipfile.ZipInfo("link.jsonl")
        link.external_attr = (0o120777 << 16) | 0x20  # a symlink, as `zip --symlinks` stores one
        zf.writestr(link, "/etc/passwd")
    raw = bytearray(zp.read_bytes())
    # mark page.jsonl encrypted: flag bit 0 in its central directory entry
    cd = raw.find(b"PK\x01\x02")  # the first entry of the central directory: page.jsonl
    raw[cd + 8] |= 1
    zp.write_bytes(bytes(raw))
    results = _ingest(tmp_path / "c.duckdb", [zp])
    reasons = {r.path: r.reasons[0][0] for r in results}
    assert reasons == {
        f"{zp}!link.jsonl": "skipped: a symlink stored in the archive: not followed",
        f"{zp}!page.jsonl": "skipped: an encrypted zip member: not read (decrypt the archive first)",
    }


# -- damaged compressed data --------------------------------------------------------------------


def test_a_truncated_gzip_keeps_the_records_before_the_cut(tmp_path):
    data = _tweets(2000)  # 240 KB, about 20 KB compressed
    full = gzip.compress(data)
    cut = tmp_path / "tweets.jsonl.gz"
    cut.write_bytes(full[: len(full) // 2])
    case = tmp_path / "c.duckdb"
    for run in range(2):  # a re-run stores nothing twice
        (r,) = _ingest(case, [cut])
        assert r.format == "x_v2"
        stored = _rows(case, "SELECT count(*), max(source_record) FROM posts")[0]
        assert 500 < stored[0] < 2000 and stored[1] == stored[0]  # every line before the cut, in order
        rows = _rows(case, "SELECT record, reason FROM quarantine ORDER BY record NULLS LAST")
        assert len(rows) == 2
        # the line the cut fell in, then the cut itself, naming the file and the byte
        assert rows[0] == (stored[0] + 1, "invalid JSON (truncated or malformed record)")
        assert rows[1][0] is None
        assert rows[1][1].startswith(f"{cut}: compressed data damaged or cut short at decompressed byte ")
        assert f"of {len(full) // 2:,})" in rows[1][1] and "EOFError" in rows[1][1]
        assert (r.inserted if run == 0 else r.duplicates, r.quarantined) == (stored[0], 2)


def test_corrupt_zstd_keeps_what_came_before_and_names_the_place(tmp_path):
    """(A zstd frame without a checksum, as pyarrow writes them, cannot reveal every damage: this one it can.)"""
    data = _tweets(20000)  # 2.4 MB, about 120 KB compressed: corrupted in its middle
    z = bytearray(_zstd(data))
    z[len(z) // 2] ^= 0xFF
    bad = tmp_path / "tweets.jsonl.zst"
    bad.write_bytes(bytes(z))
    (r,) = _ingest(tmp_path / "c.duckdb", [bad])
    assert r.format == "x_v2" and 0 < r.inserted < 20000
    problem = [reason for reason, _ in r.reasons if "compressed data damaged" in reason]
    assert problem and problem[0].startswith(f"{bad}: compressed data damaged or cut short at decompressed byte")
    assert "ZSTD" in problem[0]


def test_a_damaged_head_says_so_rather_than_unknown_format(tmp_path):
    bad = tmp_path / "x.jsonl.gz"
    g = bytearray(gzip.compress(_tweets(10)))
    g[12:40] = b"\xff" * 28  # the deflate data right after the header
    bad.write_bytes(bytes(g))
    (r,) = _ingest(tmp_path / "c.duckdb", [bad])
    assert r.format == "unknown"
    assert r.reasons[0][0].startswith("compressed data damaged or cut short at decompressed byte 0")


# -- compression bombs ---------------------------------------------------------------------------


def test_the_default_cap_is_100_times_the_compressed_size_at_least_256_mib():
    assert cz.decompression_cap(1_000, ReadOptions()) == 256 << 20
    assert cz.decompression_cap(10 << 20, ReadOptions()) == 1000 << 20
    assert cz.decompression_cap(10 << 20, ReadOptions(max_decompressed_bytes=5)) == 5


def test_a_zip_bomb_member_is_not_opened(tmp_path):
    zp = tmp_path / "export.zip"
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.jsonl", b"\0" * (20 << 20))  # 20 MiB of zeros: about 20 KB
        zf.write(FIX / "x_v2/page.jsonl", "page.jsonl")
    assert zp.stat().st_size < 100_000
    case = tmp_path / "c.duckdb"
    bomb, page = _ingest(case, [zp], ReadOptions(max_decompressed_bytes=1 << 20))
    assert bomb.format == "skipped" and page.inserted == 4
    reason = bomb.reasons[0][0]
    assert reason.startswith(f"skipped: {zp}!bomb.jsonl declares 20,971,520 bytes decompressed from ")
    assert "more than the cap of 1,048,576 bytes (max_decompressed_bytes): not read" in reason
    assert _rows(case, "SELECT source_file, reason FROM quarantine WHERE reason LIKE 'skipped%'") == [
        (f"{zp}!bomb.jsonl", reason)
    ]


def test_the_archives_total_is_capped_too(tmp_path):
    """Overlapping-member bombs: each member under the cap, together over it."""
    zp = tmp_path / "export.zip"
    part = _tweets(5000)  # 600 KB each, under a 1 MiB cap alone
    with zipfile.ZipFile(zp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.jsonl", part)
        zf.writestr("b.jsonl", part)
    a, b = _ingest(tmp_path / "c.duckdb", [zp], ReadOptions(max_decompressed_bytes=1 << 20))
    assert (a.format, a.inserted) == ("x_v2", 5000)
    assert b.format == "skipped" and "the archive passes its cap of 1,048,576 bytes" in b.reasons[0][0]


def test_a_gzip_bomb_stops_at_the_cap_naming_the_file(tmp_path):
    data = _tweets(1) * 50_000  # the same line 50,000 times: 4 MB, a few KB compressed
    gz = tmp_path / "bomb.jsonl.gz"
    gz.write_bytes(gzip.compress(data))
    case = tmp_path / "c.duckdb"
    (r,) = _ingest(case, [gz], ReadOptions(max_decompressed_bytes=300_000))
    line = len(_tweets(1))
    whole = 300_000 // line
    assert (r.inserted, r.duplicates) == (1, whole - 1)
    reasons = dict(r.reasons)
    assert reasons[f"{gz}: decompressed size passes the cap of 300,000 bytes (max_decompressed_bytes); "
                   "reading stopped there, as at the end of the file (a compression bomb? a larger cap: "
                   "max_decompressed_bytes)"] == 1  # fmt: skip
    assert r.records == whole + 2  # the cut line and the cap


# -- formats that need a real file ----------------------------------------------------------------


def test_parquet_in_a_zip_is_read_from_a_temporary_copy_in_the_case_folder(tmp_path, monkeypatch):
    table = pa.table({"ID": ["p1", "p2"], "Author": ["a1", "a2"], "When": ["2024-03-01T10:00:00Z"] * 2})
    pq.write_table(table, tmp_path / "posts.parquet")
    zp = tmp_path / "export.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.write(tmp_path / "posts.parquet", "posts.parquet")
    cases = tmp_path / "cases"
    cases.mkdir()
    made: list[Path] = []
    real = unpacked.materialise

    def spy(packed, folder):
        real(packed, folder)
        made.append(packed.local)

    monkeypatch.setattr("swarmscope.ingest.materialise", spy)
    options = ReadOptions(column_map=dict(post_id="ID", account_id="Author", created_at="When"), platform="vk")
    (r,) = _ingest(cases / "c.duckdb", [zp], options, fmt="generic_table")
    assert (r.path, r.inserted) == (f"{zp}!posts.parquet", 2)
    assert len(made) == 1 and made[0].parent == cases and made[0].name.startswith(".swarmscope-unpacked-")
    assert not made[0].exists()


def test_a_copy_left_by_a_killed_ingest_is_swept(tmp_path):
    stale = tmp_path / ".swarmscope-unpacked-999999999-abc.json"  # no such process
    stale.write_text("{}")
    _ingest(tmp_path / "c.duckdb", [FIX / "x_v2/page.jsonl"])
    assert not stale.exists()


# -- the store's errors, per file -----------------------------------------------------------------


def test_a_store_error_quarantines_that_file_and_the_others_go_on(tmp_path, monkeypatch):
    """A batch the store refuses (a NOT NULL kind) no longer aborts the run."""
    from swarmscope.ingest import x_archive

    real = x_archive.read

    def bad_kind(path, options):
        for batch in real(path, options):
            n = batch.posts.num_rows
            i = batch.posts.schema.get_field_index("kind")
            batch.posts = batch.posts.set_column(i, "kind", pa.nulls(n, pa.string()))
            yield batch

    monkeypatch.setattr(x_archive, "read", bad_kind)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_tweets.csv").write_bytes((FIX / "x_archive/tweets.csv").read_bytes())
    (folder / "b_page.jsonl").write_bytes((FIX / "x_v2/page.jsonl").read_bytes())
    case = tmp_path / "c.duckdb"
    bad, good = _ingest(case, [folder])
    assert (bad.format, bad.records, bad.inserted, bad.quarantined) == ("x_archive", 5, 0, 5)
    assert good.inserted == 4
    rows = _rows(case, f"SELECT record, reason, excerpt FROM quarantine WHERE source_file = '{folder}/a_tweets.csv'")
    assert sorted(r[0] for r in rows if r[0] is not None) == [1, 2, 3, 4]
    assert all(r[1].startswith("store refused a batch: ConstraintException: ") for r in rows)
    assert sum("(this record was in it)" in r[1] for r in rows) == 4
    assert sum("(after 4 records; the rest of the file was not read)" in r[1] for r in rows) == 1
    assert any(r[2].startswith("post ") for r in rows)
    errors, _ = explain([bad, good], case)
    assert len(errors) == 1 and "a_tweets.csv: nothing stored" in errors[0]
    # the command line: exit 1 (an input gave nothing), the other file stored, no traceback
    r = runner.invoke(app, ["ingest", str(tmp_path / "d.duckdb"), str(folder), "--no-enrich"])
    assert r.exit_code == 1, r.output
    assert "store refused a batch" in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    assert _rows(tmp_path / "d.duckdb", "SELECT count(*) FROM posts") == [(4,)]


@pytest.mark.parametrize("kind", ["gzip", "zip"])
def test_a_compressed_input_reports_how_much_of_its_file_was_read(tmp_path, kind):
    """The ingest bar counts the files' bytes as given; a compressed input moves it by the compressed
    bytes read (a member of a zip by its decompressed fraction), not all at once at its end (a 100 MB
    gzip held the bar at 0 for 29 s)."""
    import os

    body = b"".join(json.dumps({"id": str(i), "text": os.urandom(40).hex()}).encode() + b"\n" for i in range(100_000))
    if kind == "gzip":
        src = tmp_path / "posts.jsonl.gz"
        src.write_bytes(gzip.compress(body))
    else:
        src = tmp_path / "posts.zip"
        with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("posts.jsonl", body)
    entries, archive = cz.expand(src, ReadOptions())
    (packed,) = [e.path for e in entries]
    assert packed.share > 0 and packed.progress() == 0
    seen = []
    with cz.open_input(packed) as fh:
        while fh.read(64 << 10):
            seen.append(packed.progress())
    if archive is not None:
        archive.close()
    assert len(set(seen)) > 3  # it moved along the way
    assert seen == sorted(seen) and 0 < seen[0] < packed.share
    assert seen[-1] >= 0.95 * packed.share and max(seen) <= packed.share

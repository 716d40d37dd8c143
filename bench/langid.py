"""Language identification benchmark: accuracy per language and texts/s per detector, and ingest throughput.

    python bench/langid.py [--detectors swarmscope,lingua-low,pycld2,...] [--speed-texts 200000]
                           [--lingua-testdata DIR] [--ingest ira_english] [--no-ingest]

Labelled sets (nothing here is committed; the real ones are read from ../shared/data):

- ``translations``: tests/fixtures/translations, 424 hand-made posts in en, fr, ru, az, fa, tr, ar;
  ``translations-4w``: the first four words of each (short posts);
- ``telegram_ru``: the Russian news channels of ../shared/data/telegram_ru_news (channel-level label ru);
- ``ira``: ../shared/data/ira_english with the release's per-tweet ``language`` tag. Only the English tag
  is a usable label (the other tags are mostly the tagger's misreadings of short English posts:
  "Swimming pools #ShouldBeAllowedAtWork" is tagged Estonian), so accuracy is reported for en only;
- ``lingua-testdata`` (optional, ``--lingua-testdata``): the sentences and word pairs of lingua's
  language-testdata folder, 75 languages (Apache-2.0; lingua's own test set, so it favours lingua).

Every text is cleaned as ingest cleans it (``enrich.lang.CLEAN_QUERY``: links, @handles, RT prefix and,
unless nothing else is left, hashtags removed). A detector's answer is ``correct``, ``wrong`` or
``undecided`` (None); an unknown costs less than a wrong language, so both rates are shown.
Speed: distinct cleaned texts of the untagged real sets, texts/s by wall clock and by CPU time
(``time.process_time``: all threads of this process), with the load average before and after.
The ingest step runs ``ingest(..., enrich=True)`` on an untagged set in a fresh process.

Detectors other than swarmscope's own and lingua are optional: those not installed are skipped
(pip install pycld2 py3langid cld3-py whatlang-pyo3 heliport).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, ROOT, machine, table
from swarmscope.enrich import lang as sslang

DATA = ROOT.parent / "shared" / "data"
FIXTURE = ROOT / "tests" / "fixtures" / "translations" / "messages.jsonl"
IRA_TAGS = {"English": "en"}
FOCUS = ("en", "fr", "ru", "az", "fa", "tr", "ar")  # the translation set's languages: reported per language


# --------------------------------------------------------------------------- labelled sets


def labelled_sets(lingua_testdata: Path | None, per_lang: int) -> dict[str, list[tuple[str, str]]]:
    """name -> [(label, raw text)]."""
    sets: dict[str, list[tuple[str, str]]] = {}
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    sets["translations"] = [(r["lang"], r["text"]) for r in rows]
    sets["translations-4w"] = [(r["lang"], " ".join(r["text"].split()[:4])) for r in rows]
    tg = DATA / "telegram_ru_news"
    if tg.is_dir():
        texts = []
        for f in sorted(tg.glob("*_messages.json")):
            texts += [m["text"] for m in json.loads(f.read_text()) if m.get("text")]
        texts = sorted(set(texts), key=hash_key)[:2000]
        sets["telegram_ru"] = [("ru", t) for t in texts]
    ira = DATA / "ira_english" / "ira_english.csv.gz"
    if ira.exists():
        with duckdb.connect() as con:
            con.execute("SET enable_progress_bar = false")
            got = con.execute(
                f"""SELECT language, content FROM (SELECT DISTINCT language, content
                    FROM read_csv('{ira}', all_varchar = true) WHERE language = 'English')
                    ORDER BY hash(content) LIMIT 5000"""
            ).fetchall()
        sets["ira"] = [(IRA_TAGS[lab], t) for lab, t in got]
    if lingua_testdata is not None:
        for kind in ("sentences", "word-pairs", "single-words"):
            d = lingua_testdata / kind
            if not d.is_dir():
                continue
            rows2 = []
            for f in sorted(d.glob("*.txt")):
                lines = [x.strip() for x in f.read_text().splitlines() if x.strip()]
                rows2 += [(f.stem, x) for x in lines[:per_lang]]
            sets[f"lingua-{kind}"] = rows2
    return sets


def hash_key(s: str) -> str:
    import hashlib

    return hashlib.sha1(s.encode("utf-8", "surrogatepass")).hexdigest()


def clean_texts(texts: list[str]) -> list[str]:
    """The texts as fill_languages hands them to the detector (same SQL); '' where nothing is left."""
    with duckdb.connect() as con:
        con.register("t", pa.table({"text": pa.array(texts, pa.string())}))
        got = dict(con.execute(sslang.CLEAN_QUERY.format(source="SELECT DISTINCT text FROM t")).fetchall())
    return [got.get(t, "") for t in texts]


# --------------------------------------------------------------------------- detectors


def _iso3_to_1() -> dict[str, str]:
    from lingua import Language

    m = {lang.iso_code_639_3.name.lower(): lang.iso_code_639_1.name.lower() for lang in Language.all()}
    # individual languages of macrolanguages the other detectors name
    m.update({"pes": "fa", "prs": "fa", "azj": "az", "azb": "az", "arb": "ar", "ary": "ar", "arz": "ar", "apc": "ar"})
    m.update({"zsm": "ms", "cmn": "zh", "ekk": "et", "lvs": "lv", "khk": "mn", "uzn": "uz", "swh": "sw"})
    m.update({"als": "sq", "nob": "nb", "nno": "nn", "plt": "mg", "pbt": "ps", "npi": "ne", "ydd": "yi"})
    m.update({"gaz": "om", "quy": "qu", "urd": "ur", "ukr": "uk", "tgl": "tl", "fil": "tl", "kaz": "kk"})
    return m


def det_swarmscope() -> Callable[[list[str]], list[str | None]]:
    return sslang.detect_languages


def det_lingua(low: bool, min_conf: float = sslang.MIN_CONFIDENCE, only: tuple[str, ...] = ()) -> Callable:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    if only:
        b = LanguageDetectorBuilder.from_iso_codes_639_1(*(getattr(IsoCode639_1, c.upper()) for c in only))
    else:
        b = LanguageDetectorBuilder.from_all_languages()
    d = (b.with_low_accuracy_mode() if low else b).build()

    def run(texts: list[str]) -> list[str | None]:
        ranked = d.compute_language_confidence_values_in_parallel([t[: sslang.MAX_CHARS] for t in texts])
        return [r[0].language.iso_code_639_1.name.lower() if r and r[0].value >= min_conf else None for r in ranked]

    return run


def det_pycld2() -> Callable:
    import pycld2

    def one(t: str) -> str | None:
        try:
            reliable, _, found = pycld2.detect(t[: sslang.MAX_CHARS])
        except pycld2.error:
            return None
        code = found[0][1].split("-")[0]
        return code if reliable and code not in ("un", "xx") else None

    return lambda texts: [one(t) for t in texts]


def det_py3langid(min_prob: float = 0.9) -> Callable:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def one(t: str) -> str | None:
        code, p = ident.classify(t[: sslang.MAX_CHARS])
        return code if p >= min_prob else None

    return lambda texts: [one(t) for t in texts]


def det_cld3(min_prob: float = 0.7) -> Callable:
    import gcld3

    ident = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)

    def one(t: str) -> str | None:
        r = ident.FindLanguage(text=t[: sslang.MAX_CHARS])
        code = r.language.split("-")[0]
        return code if r.is_reliable and r.probability >= min_prob and code != "und" else None

    return lambda texts: [one(t) for t in texts]


def det_whatlang() -> Callable:
    import whatlang

    to1 = _iso3_to_1()

    def one(t: str) -> str | None:
        try:
            info = whatlang.detect(t[: sslang.MAX_CHARS])
        except Exception:  # no language found
            return None
        return to1.get(str(info.lang).lower()) if info.is_reliable else None

    return lambda texts: [one(t) for t in texts]


def det_heliport() -> Callable:
    import heliport

    ident = heliport.Identifier()
    to1 = _iso3_to_1()

    def run(texts: list[str]) -> list[str | None]:
        out = ident.par_identify([t[: sslang.MAX_CHARS] for t in texts])
        return [None if c == "und" else to1.get(c, c) for c in out]

    return run


DETECTORS: dict[str, Callable[[], Callable]] = {
    "swarmscope": det_swarmscope,
    "lingua-low": lambda: det_lingua(True),
    "lingua-high": lambda: det_lingua(False),
    # restricted to the translation set's seven languages: faster, but every other language is forced
    # into one of them (shown to measure that, not as a choice: no language may be favoured)
    "lingua-low-7": lambda: det_lingua(True, only=FOCUS),
    "pycld2": det_pycld2,
    "py3langid": det_py3langid,
    "cld3": det_cld3,
    "whatlang": det_whatlang,
    "heliport": det_heliport,
}


# --------------------------------------------------------------------------- measuring


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def timed(fn: Callable, *a):
    w, c = time.perf_counter(), time.process_time()
    out = fn(*a)
    return out, time.perf_counter() - w, time.process_time() - c


def score(labels: list[str], got: list[str | None]) -> dict[str, Counter]:
    per: dict[str, Counter] = defaultdict(Counter)
    for lab, g in zip(labels, got):
        per[lab]["n"] += 1
        per[lab]["correct" if g == lab else "undecided" if g is None else "wrong"] += 1
    return per


def speed_texts(n: int) -> dict[str, list[str]]:
    """Distinct cleaned texts of the untagged real sets (as fill_languages sees them)."""
    out = {}
    ira = DATA / "ira_english" / "ira_english.csv.gz"
    if ira.exists():
        with duckdb.connect() as con:
            con.execute("SET enable_progress_bar = false")
            raw = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT content FROM read_csv('{ira}', all_varchar = true) "
                    f"WHERE content IS NOT NULL ORDER BY hash(content) LIMIT {n}"
                ).fetchall()
            ]
        out["ira_english"] = sorted({c for c in clean_texts(raw) if c})
    tg = DATA / "telegram_ru_news"
    if tg.is_dir():
        raw = []
        for f in sorted(tg.glob("*_messages.json")):
            raw += [m["text"] for m in json.loads(f.read_text()) if m.get("text")]
        out["telegram_ru_news"] = sorted({c for c in clean_texts(sorted(set(raw))) if c})
    return out


def ingest_run(name: str) -> list[str]:
    """Ingest an untagged real set with enrichment in a fresh process: posts, wall and CPU seconds."""
    work = OUT / "langid"
    work.mkdir(parents=True, exist_ok=True)
    case = work / f"{name}.duckdb"
    for f in (case, Path(str(case) + ".wal")):
        f.unlink(missing_ok=True)
    if name == "ira_english":
        src = work / "ira_english.csv"
        if not src.exists():
            with gzip.open(DATA / "ira_english" / "ira_english.csv.gz", "rb") as a, open(src, "wb") as b:
                shutil.copyfileobj(a, b)
        args = (
            f"[{str(src)!r}], format='generic_table', options=ReadOptions(platform='x', column_map=dict("
            "post_id='post_id', account_id='author_id', handle='author_id', text='content', "
            "created_at='publish_date', kind='kind'))"
        )
    else:
        args = f"[{str(DATA / name)!r}]"
    code = (
        "import time, resource\n"
        "import swarmscope.enrich as en\n"
        "from swarmscope.ingest import ingest\n"
        "from swarmscope.ingest.base import ReadOptions\n"
        "from swarmscope.store import Case\n"
        "spent = {'fill_languages': 0.0, 'build_actions': 0.0}\n"
        "def timed(name):\n"  # CPU seconds of enrichment's two steps, for the breakdown line
        "    fn = getattr(en, name)\n"
        "    def run(*a, **k):\n"
        "        c = time.process_time()\n"
        "        try:\n"
        "            return fn(*a, **k)\n"
        "        finally:\n"
        "            spent[name] += time.process_time() - c\n"
        "    setattr(en, name, run)\n"
        "timed('fill_languages'); timed('build_actions')\n"
        "w, c = time.perf_counter(), time.process_time()\n"
        f"r = ingest({str(case)!r}, {args}, progress=False, enrich=False)\n"
        "w1, c1 = time.perf_counter(), time.process_time()\n"
        f"with Case({str(case)!r}) as db:\n"
        "    en.enrich_pending(db, progress=False)\n"
        "    und = db.con.execute('SELECT count(*) FILTER (lang IS NULL), count(*) FROM posts').fetchall()[0]\n"
        "w2, c2 = time.perf_counter(), time.process_time()\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "print('enrich CPU s: languages %.1f, actions %.1f; peak RSS %d MiB' % (*spent.values(), peak))\n"
        "print(sum(x.inserted for x in r), w1 - w, c1 - c, w2 - w1, c2 - c1, und[0])\n"
    )
    before = load()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    print(name, proc.stdout.strip().splitlines()[-2], flush=True)
    n, w_in, c_in, w_en, c_en, und = proc.stdout.split()[-6:]
    n, w_in, c_in, w_en, c_en = int(n), float(w_in), float(c_in), float(w_en), float(c_en)
    tot = w_in + w_en
    return [
        name,
        f"{n:,}",
        f"{w_in:,.1f} / {c_in:,.1f}",
        f"{w_en:,.1f} / {c_en:,.1f}",
        f"{n / tot:,.0f}",
        f"{n / (c_in + c_en):,.0f}",
        f"{int(und) / n:.1%}",
        f"{before} -> {load()}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--detectors", default=",".join(DETECTORS))
    ap.add_argument("--speed-texts", type=int, default=200_000, help="distinct IRA texts for the speed rows")
    ap.add_argument("--lingua-testdata", type=Path, help="lingua-py's language-testdata folder (optional)")
    ap.add_argument("--per-lang", type=int, default=200, help="lines per language of the lingua test data")
    ap.add_argument("--ingest", default="ira_english,telegram_ru_news", help="untagged sets to ingest ('' for none)")
    ap.add_argument("--skip-speed-for", default="lingua-high", help="detectors too slow for the speed rows")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    args = ap.parse_args()
    print(f"machine: {machine()}; load {load()}", flush=True)
    sets = labelled_sets(args.lingua_testdata, args.per_lang)
    cleaned = {name: clean_texts([t for _, t in rows]) for name, rows in sets.items()}
    speed = speed_texts(args.speed_texts)
    print(
        "labelled:", {k: len(v) for k, v in sets.items()}, "speed:", {k: len(v) for k, v in speed.items()}, flush=True
    )
    acc_rows, speed_rows, raw = [], [], {}
    for name in args.detectors.split(","):
        try:
            det, w, c = timed(DETECTORS[name])
        except ImportError as e:
            print(f"{name}: skipped ({e})", flush=True)
            continue
        det(["warm up the detector"])
        raw[name] = {"setup_wall": w, "setup_cpu": c}
        for sname, rows in sets.items():
            texts = cleaned[sname]
            keep = [i for i, t in enumerate(texts) if t]
            got = det([texts[i] for i in keep])
            per = score([rows[i][0] for i in keep], got)
            raw[name][sname] = {k: dict(v) for k, v in per.items()}
            tot = sum(per.values(), Counter())
            focus = [lab for lab in FOCUS if lab in per] if not sname.startswith("lingua") else []
            cells = ", ".join(f"{lab} {per[lab]['correct'] / per[lab]['n']:.2f}" for lab in focus)
            if sname.startswith("lingua"):
                worst = sorted(per, key=lambda lab: per[lab]["correct"] / per[lab]["n"])[:4]
                cells = "worst: " + ", ".join(f"{lab} {per[lab]['correct'] / per[lab]['n']:.2f}" for lab in worst)
                cells += " | " + ", ".join(
                    f"{lab} {per[lab]['correct'] / per[lab]['n']:.2f}" for lab in ("az", "fa") if lab in per
                )
            acc_rows.append(
                [
                    name,
                    sname,
                    f"{tot['n']:,}",
                    f"{tot['correct'] / tot['n']:.3f}",
                    f"{tot['wrong'] / tot['n']:.3f}",
                    f"{tot['undecided'] / tot['n']:.3f}",
                    cells,
                ]
            )
            print(" | ".join(acc_rows[-1]), flush=True)
        if name in args.skip_speed_for.split(","):
            continue
        for sname, texts in speed.items():
            before = load()
            _, w, c = timed(det, texts)
            speed_rows.append([name, sname, f"{len(texts):,}", f"{len(texts) / w:,.0f}", f"{len(texts) / c:,.0f}"])
            speed_rows[-1].append(f"{before} -> {load()}")
            raw[name][f"speed:{sname}"] = {"texts": len(texts), "wall": w, "cpu": c}
            print(" | ".join(speed_rows[-1]), flush=True)
    ingest_rows = [ingest_run(s) for s in args.ingest.split(",") if s]
    for r in ingest_rows:
        print(" | ".join(r), flush=True)
    print()
    print(table(["detector", "set", "texts", "correct", "wrong", "undecided", "per language (correct)"], acc_rows))
    print()
    print(table(["detector", "texts of", "distinct texts", "texts/s (wall)", "texts/s (CPU)", "load"], speed_rows))
    print()
    hdr = ["set", "posts", "ingest s wall / CPU", "enrich s wall / CPU", "posts/s wall", "posts/s CPU"]
    print(table([*hdr, "no language", "load"], ingest_rows))
    if args.json:
        args.json.write_text(json.dumps({"accuracy": raw, "ingest": ingest_rows}, indent=1))


if __name__ == "__main__":
    main()

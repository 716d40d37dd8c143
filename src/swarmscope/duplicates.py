"""``swarmscope duplicates``: copy-paste text clusters and reused images of a case.

Reads the case's posts, runs detect/duplicates.py (texts) and
detect/images.py (media files present on disk), and writes the clusters
back as actions so the coordination engine can find accounts that post the
same text or picture within minutes:

- ``near_dup_cluster``: one row per post in a text cluster, object_id the
  cluster id (``dup-`` + sha1 of the representative's normalised text:
  the same data gives the same ids on every run);
- ``image_hash``: one row per hashed image of a post (the pHash);
- ``image_cluster``: one row per post whose image is in a cluster
  (``img-`` + the representative's pHash).

A new run replaces the ``near_dup_cluster`` and ``image_cluster`` actions
of the previous one (a different threshold gives different clusters; mixing
both would count one copy twice). Reposts and forwards are left out: they
carry their parent's text, and ``repost_of`` already links them.

Why this module is long: it is the one case-level step behind one run
record for three kinds of copies that share the case's posts and the
actions they replace: texts, images, and translations with the selection
of texts to embed (``EmbedSelection``), which must see the same posts and
counts as the text stage it feeds.

Media paths in ``posts.media`` are looked up as given, then relative to the
post's source file, then relative to ``media_dir``; media that resolve to
no file (URLs, media keys) are counted, not fetched.

Translations (on by default, ``translations=False`` turns them off): the
built-in multilingual encoder (enrich/embed.py), or a sentence-transformers
folder given as ``embedding_model``, embeds the texts that can matter
(``EmbedSelection``: texts posted by two or more accounts first, then the
texts of accounts that copy or co-act), at most ``max_texts`` of them, each
once per case (the ``embeddings`` table). A message and its translations
form one cluster of type ``translation``; ``langs_list``, ``match_list``
and ``similarity_list`` give each member's language, how it joined and its
similarity to the representative.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .detect.duplicates import DuplicateParams, DuplicateResult, VariantTexts, find_duplicates
from .detect.images import ImageParams, cluster_images
from .detect.semantic import SemanticParams
from .duck import registered, release_cache
from .enrich.media import hash_images, video_support
from .enrich.text import normalise_repeated, plain
from .progress import detail, watching
from .store import Case
from .tablefile import write_table

CLUSTERS = pa.schema(
    [
        ("cluster_id", pa.string()),
        ("kind", pa.string()),  # text | image
        ("type", pa.string()),  # copypasta | rewording | translation | image
        ("posts", pa.int64()),
        ("accounts", pa.int64()),
        ("variants", pa.int64()),  # distinct normalised texts / distinct image hashes
        ("first_at", pa.timestamp("us")),
        ("last_at", pa.timestamp("us")),
        ("representative_post", pa.string()),  # platform:post_id
        ("representative", pa.string()),  # text as posted / pHash of the image
        ("min_similarity", pa.float64()),  # Jaccard (text) or 1 - bits/64 (image) to the representative
        ("languages", pa.list_(pa.string())),  # text: the members' languages, most posts first
        ("posts_list", pa.list_(pa.string())),  # platform:post_id of every member
        ("langs_list", pa.list_(pa.string())),  # text: each member's language (posts.lang; 'unknown')
        ("match_list", pa.list_(pa.string())),  # text: exact | copypasta | rewording | translation
        # text: each member's similarity to the representative: cosine for a translation, else Jaccard
        ("similarity_list", pa.list_(pa.float64())),
    ]
)


@dataclass(frozen=True)
class EmbedSelection:
    """Which texts are embedded (at about 20 short texts per CPU-second, not all of a large case).

    Eligible: distinct normalised texts (variants) of at least the character
    stage's ``min_chars``. Taken, in this order, up to ``max_texts``:

    1. texts posted by ``min_accounts`` (2) or more accounts, most accounts
       first: a message an operation pushes recurs, and so do its
       translations when each language has its own crew;
    2. the other texts of *candidate* accounts, strongest first: accounts
       that posted a recurring text, or co-acted with another account (the
       same repost, URL, sound or object within ``coaction_seconds``, 300:
       the links network's window, wider than the reposts' 60 s). A
       translation posted once by each of two accounts is found when those
       accounts copy or co-act elsewhere, as accounts in a coordination
       cluster do.

    Everything else, a single account's one-off post, is not embedded: it
    can join no cluster of two accounts. Nor is anything when the texts
    taken are all in one known language (or unknown): a translation needs
    two languages, and the built-in encoder claims nothing else.

    ``max_texts`` 2,000 and ``max_chars`` 300 bound the stage at about 1-3
    minutes on two cores whatever the size of the case and the length of
    its posts (encoder cost grows with tokens: 20-40 short texts/s, 3-6 for
    ~55 words, docs/benchmarks.md). An operation's messages come first
    (posted by the most accounts), so the cap leaves out the weakest
    candidates of a large case, and the counts say how many (``over_cap``).
    A text is embedded by its first 300 characters: the translation
    thresholds were chosen on messages of 10-40 words, and a translated
    copy of a long post starts as the original does. Raise either in the
    config (``[translation_selection]``) for a case that needs it.
    Embedding is cached in the case, so a re-run embeds only new texts.
    """

    max_texts: int = 2_000
    max_chars: int = 300
    min_accounts: int = 2
    coaction_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.max_texts < 0 or self.min_accounts < 2 or self.max_chars < 1:
            raise ValueError("need max_texts >= 0, max_chars >= 1 and min_accounts >= 2")


def duplicates(
    case_path: str | Path,
    threshold: float = 0.8,
    output: str | Path | None = None,
    media_dir: str | Path | None = None,
    max_image_distance: int = 8,
    embedding_model: str | Path | None = None,
    translations: bool = True,
    selection: EmbedSelection = EmbedSelection(),
    progress: bool = True,
    finder: Callable[[duckdb.DuckDBPyConnection, DuplicateParams], DuplicateResult] | None = None,
) -> pa.Table:
    """Find text and image clusters in the case, store them as actions, optionally write a CSV.

    ``translations`` (default on): cross-lingual clusters (``translation``)
    from sentence embeddings of the texts ``selection`` picks: the built-in
    encoder, or ``embedding_model``, a sentence-transformers folder on disk
    (needs the ``embeddings`` extra; nothing is downloaded), which also adds
    same-language rewordings at D3lta's 0.85.

    Returns the clusters (``CLUSTERS`` schema), largest first; the schema
    metadata key ``swarmscope.counts`` holds where every text and media
    file went (JSON), ``counts["translations"]`` how many texts were
    embedded, read from the case's cache, and left out.

    ``finder``: another engine's text stage (``finder(con, params)``, e.g.
    engines/spark/detect.py), returning what ``find_duplicates`` returns for
    the same posts; it has no translation stage, so it needs
    ``translations=False``. Images stay here.
    """
    if finder is not None and translations:
        raise ValueError("another engine's text stage finds no translations: pass translations=False with it")
    text_params = DuplicateParams(threshold=threshold)
    image_params = ImageParams(max_distance=max_image_distance)
    encoder = None
    if translations:
        from .enrich.embed import load_encoder, model_id

        encoder = load_encoder(embedding_model)  # fails before the run starts: missing folder, missing extra
    semantic = SemanticParams.for_encoder(builtin=embedding_model is None)
    with Case(case_path) as case:
        run_id = case.begin_run(
            "duplicates",
            {
                **asdict(text_params),
                **asdict(image_params),
                "media_dir": str(media_dir) if media_dir else None,
                "embedding_model": str(embedding_model) if embedding_model else None,
                "encoder": model_id(encoder) if encoder else None,
                "semantic": asdict(semantic) if encoder else None,
                "selection": asdict(selection) if encoder else None,
            },
        )
        try:
            con = case.con
            with watching(con, "reading posts"):
                posts = con.sql(
                    """SELECT platform || ':' || post_id AS key, platform, post_id, account_id, created_at, text, lang
                       FROM posts WHERE kind NOT IN ('repost', 'forward')
                       ORDER BY platform, post_id"""
                ).to_arrow_table()
            release_cache(con)  # its blocks: 0.8 GiB at 10M posts that nothing reads again
            embed, emb_counts = None, None
            # each distinct text folded once for the selection and the text stage alike
            norm = normalise_repeated(posts["text"], az_latin=text_params.az_latin) if finder is None else None
            if encoder is not None:
                detail("choosing texts to embed")
                embed, emb_counts = _selective_embed(con, posts, norm, encoder, text_params, selection, progress)
                release_cache(con)  # what the selection's aggregates left in DuckDB's pool
            if finder is not None:
                found = finder(con, text_params)
            else:
                found = find_duplicates(
                    posts["key"],
                    posts["text"],
                    text_params,
                    langs=posts["lang"],
                    embed=embed,
                    semantic=semantic,
                    norm=norm,
                )
            del norm
            detail("storing clusters")
            with registered(con, _dup_posts=posts, _dup_members=found.members):
                text_actions = con.sql(
                    """SELECT p.platform, p.account_id, p.post_id, p.created_at,
                              'near_dup_cluster' AS object_type, m.cluster_id AS object_id
                       FROM _dup_members m JOIN _dup_posts p ON p.key = m.post_id
                       WHERE p.account_id IS NOT NULL AND p.created_at IS NOT NULL"""
                ).to_arrow_table()
                text_clusters = _summarise(
                    con,
                    found.clusters.select(
                        [
                            "cluster_id",
                            "type",
                            "variants",
                            "representative_post_id",
                            "representative_text",
                            "min_similarity",
                        ]
                    ),
                    "_dup_members",
                    "text",
                )
                image_actions, image_clusters, media_counts = _images(case, media_dir, image_params)
                case.replace_actions(("near_dup_cluster", "image_cluster"), text_actions, image_actions)
            clusters = pa.concat_tables([text_clusters, image_clusters])
            clusters = clusters.take(pc.sort_indices(clusters, [("posts", "descending"), ("cluster_id", "ascending")]))
            counts = {"texts": found.counts.as_dict(), "media": media_counts}
            if emb_counts is not None:
                counts["translations"] = emb_counts | {
                    "clusters": int(pc.sum(pc.equal(text_clusters["type"], "translation")).as_py() or 0),
                    "pairs": found.counts.translation_pairs,
                }
            clusters = clusters.replace_schema_metadata({"swarmscope.counts": json.dumps(counts)})
            if output is not None:
                write_csv(clusters, output)
            case.end_run(run_id, [{"case": str(case_path), "counts": counts}])
        except BaseException:
            case.end_run(run_id, [], status="failed")
            raise
    return clusters


def _selective_embed(
    con: duckdb.DuckDBPyConnection,
    posts: pa.Table,
    norm: pa.DictionaryArray,
    encoder,
    params: DuplicateParams,
    selection: EmbedSelection,
    progress: bool,
):
    """The ``embed`` function for find_duplicates: vectors for the selected variants, zero rows for the rest.

    Returns it and a dict of counts it fills in when called (the figures of
    ``counts["translations"]``).
    """
    from .enrich.embed import CacheCounts, embed_cached, model_id

    norm = plain(norm)  # normalise_repeated(posts["text"]): each distinct posted text folded once
    eligible = pc.fill_null(pc.greater_equal(pc.utf8_length(norm), params.min_chars), False)
    sel_posts = pa.table({"platform": posts["platform"], "account_id": posts["account_id"], "norm": norm}).filter(
        eligible
    )
    chosen, figures = select_texts(con, sel_posts, selection)
    # a translation needs two known languages among the texts taken; with one (or none), embed nothing
    taken = pc.fill_null(pc.is_in(norm, value_set=chosen), False)
    langs = pc.unique(pc.filter(posts["lang"], pc.and_(eligible, taken))).to_pylist()
    languages = sorted(x for x in langs if x and x != "unknown")
    figures["languages"] = len(languages)
    if len(languages) < 2:
        chosen = chosen.slice(0, 0)
        figures.update(selected=0, skipped=figures["variants"])
    counts: dict = {"encoder": model_id(encoder)} | figures | {"embedded": 0, "cached": 0, "seconds": 0.0}
    cache = CacheCounts()

    def embed(rep: VariantTexts) -> tuple[np.ndarray, np.ndarray]:
        # (rows, vectors) of the chosen texts only: find_duplicates counts the others as zero rows;
        # the variants stay in Arrow (no Python string for each of millions)
        keys = rep.keys  # each variant's normalised text
        rows = np.flatnonzero(pc.fill_null(pc.is_in(keys, value_set=chosen), False).to_numpy(zero_copy_only=False))
        opening = pc.utf8_slice_codeunits(rep.arrow.take(pa.array(rows, pa.int64())), 0, selection.max_chars)
        texts = opening.to_pylist()  # the opening of a long post
        vectors = embed_cached(encoder, texts, con, progress=progress, counts=cache)
        out = rows, np.asarray(vectors, np.float32)
        counts.update(embedded=cache.embedded, cached=cache.cached, seconds=round(cache.seconds, 1))
        counts["texts_per_second"] = round(cache.embedded / cache.seconds, 1) if cache.embedded else None
        return out

    return embed, counts


def select_texts(
    con: duckdb.DuckDBPyConnection, posts: pa.Table, selection: EmbedSelection = EmbedSelection()
) -> tuple[pa.Array, dict]:
    """The normalised texts to embed (``EmbedSelection``), and how many were eligible, qualified and left out.

    ``posts``: one row per eligible post, columns platform, account_id, norm.
    """
    with registered(con, _emb_posts=posts), watching(con, "choosing texts to embed"):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _emb_choice AS
            WITH recurring AS (
                SELECT norm, count(DISTINCT (platform, account_id)) AS accounts FROM _emb_posts
                GROUP BY norm HAVING count(DISTINCT (platform, account_id)) >= {int(selection.min_accounts)}),
            copiers AS (
                SELECT platform, account_id, count(DISTINCT norm) AS strength
                FROM _emb_posts JOIN recurring USING (norm) GROUP BY ALL),
            acts AS (
                SELECT platform, account_id, created_at,
                       lag(platform) OVER w AS p_platform, lag(account_id) OVER w AS p_account,
                       lag(created_at) OVER w AS p_at
                FROM actions WHERE object_type IN ('repost_of', 'url', 'sound', 'object')
                WINDOW w AS (PARTITION BY object_type, object_id ORDER BY created_at, platform, account_id)),
            near AS (  -- an action that follows another account's on the same object within the window
                SELECT * FROM acts WHERE p_at IS NOT NULL
                  AND created_at - p_at <= to_microseconds({int(selection.coaction_seconds * 1e6)})
                  AND (platform, account_id) <> (p_platform, p_account)),
            pairs AS (  -- accounts that co-acted twice or more: a co-action network's candidate edge
                SELECT platform, account_id, p_platform, p_account, count(*) AS n FROM near
                GROUP BY ALL HAVING count(*) >= 2),
            coactors AS (
                SELECT platform, account_id, sum(n) AS strength FROM (
                    SELECT platform, account_id, n FROM pairs UNION ALL SELECT p_platform, p_account, n FROM pairs)
                GROUP BY ALL),
            candidates AS (
                SELECT platform, account_id, sum(strength) AS strength
                FROM (SELECT * FROM copiers UNION ALL SELECT * FROM coactors) GROUP BY ALL)
            SELECT p.norm, CASE WHEN any_value(r.accounts) IS NOT NULL THEN 1 ELSE 2 END AS tier,
                   coalesce(any_value(r.accounts), 0) AS accounts, coalesce(max(c.strength), 0) AS strength
            FROM _emb_posts p LEFT JOIN recurring r USING (norm)
            LEFT JOIN candidates c USING (platform, account_id)
            GROUP BY p.norm HAVING any_value(r.accounts) IS NOT NULL OR max(c.strength) IS NOT NULL"""
        )
        variants = con.execute("SELECT count(DISTINCT norm) FROM _emb_posts").fetchone()[0]
    try:
        tiers = dict(con.execute("SELECT tier, count(*) FROM _emb_choice GROUP BY tier").fetchall())
        chosen = con.sql(
            "SELECT norm FROM _emb_choice ORDER BY tier, accounts DESC, strength DESC, norm LIMIT ?",
            params=[int(selection.max_texts)],
        ).to_arrow_table()["norm"]
    finally:
        con.execute("DROP TABLE IF EXISTS _emb_choice")
    chosen = chosen.combine_chunks() if isinstance(chosen, pa.ChunkedArray) else chosen
    qualified = sum(tiers.values())
    figures = {
        "variants": int(variants),
        "recurring": int(tiers.get(1, 0)),
        "candidate_accounts_texts": int(tiers.get(2, 0)),
        "selected": len(chosen),
        "skipped": int(variants) - len(chosen),
        "over_cap": qualified - len(chosen),
        "max_texts": selection.max_texts,
    }
    return chosen, figures


TRANSLATION_CLUSTERS = 50  # translation clusters listed in findings.json (largest first); counts stay exact
CLUSTER_MEMBERS = 50  # members listed per cluster (earliest first)


def findings_summary(clusters: pa.Table) -> dict:
    """The ``duplicates`` part of findings.json: cluster counts, the translation stage's figures, and the
    translation clusters with each member's language and similarity to the representative."""
    counts = json.loads((clusters.schema.metadata or {}).get(b"swarmscope.counts", b"{}"))
    kinds = clusters["type"].to_pylist()
    out: dict = {"clusters": clusters.num_rows, "types": {t: kinds.count(t) for t in sorted(set(kinds))}}
    if "translations" not in counts:
        out["translations"] = None
        return out
    rows = clusters.filter(pc.equal(clusters["type"], "translation")).slice(0, TRANSLATION_CLUSTERS).to_pylist()
    # what this run did (timings, vectors embedded now or read from the cache) stays in the run's counts
    # (runs table, CLI): findings of the same data must be the same, however many runs it took
    run_facts = ("seconds", "texts_per_second", "embedded", "cached")
    figures = {k: v for k, v in counts["translations"].items() if k not in run_facts}
    out["translations"] = figures | {
        "listed": [
            {
                "cluster_id": r["cluster_id"],
                "posts": r["posts"],
                "accounts": r["accounts"],
                "languages": r["languages"],
                "representative_post": r["representative_post"].split(":", 1),
                "representative": r["representative"],
                "members": [
                    {"post": key.split(":", 1), "lang": lang, "match": match, "similarity": sim}
                    for key, lang, match, sim in zip(
                        r["posts_list"], r["langs_list"], r["match_list"], r["similarity_list"]
                    )
                ][:CLUSTER_MEMBERS],
            }
            for r in rows
        ]
    }
    return out


def _summarise(
    con: duckdb.DuckDBPyConnection, clusters: pa.Table, members_view: str, kind: str, posts_view: str = "_dup_posts"
) -> pa.Table:
    """Cluster rows with post, account and time figures from the stored posts (and, for texts, languages)."""
    order = "ORDER BY p.created_at NULLS LAST, m.post_id"
    if kind == "text":
        lang = "coalesce(p.lang, 'unknown')"
        text_cols = f"""(SELECT list(l ORDER BY n DESC, l) FROM (
                             SELECT l, count(*) AS n FROM unnest(list({lang})) AS t(l) GROUP BY l)) AS languages,
                       list({lang} {order}) AS langs_list, list(m.match {order}) AS match_list,
                       list(round(m.similarity, 4) {order}) AS similarity_list"""
    else:
        text_cols = "NULL AS languages, NULL AS langs_list, NULL AS match_list, NULL AS similarity_list"
    with registered(con, _dup_c=clusters):
        out = con.sql(
            f"""SELECT c.cluster_id, '{kind}' AS kind, c.type, count(*)::BIGINT AS posts,
                       count(DISTINCT p.account_id)::BIGINT AS accounts, any_value(c.variants)::BIGINT AS variants,
                       min(p.created_at) AS first_at, max(p.created_at) AS last_at,
                       any_value(c.representative_post_id) AS representative_post,
                       any_value(c.representative_text) AS representative,
                       any_value(c.min_similarity) AS min_similarity,
                       list(m.post_id {order}) AS posts_list, {text_cols}
                FROM _dup_c c JOIN {members_view} m USING (cluster_id) JOIN {posts_view} p ON p.key = m.post_id
                GROUP BY c.cluster_id, c.type"""
        ).to_arrow_table()
        out = out.select(CLUSTERS.names) if out.num_rows else out
    return out.cast(CLUSTERS) if out.num_rows else CLUSTERS.empty_table()


def _images(case: Case, media_dir: str | Path | None, params: ImageParams) -> tuple[pa.Table, pa.Table, dict]:
    con = case.con
    media = con.sql(
        """SELECT platform || ':' || post_id AS key, platform, post_id, account_id, created_at, source_file, m
           FROM (SELECT *, unnest(media) AS m FROM posts WHERE kind NOT IN ('repost', 'forward'))
           WHERE m IS NOT NULL AND m <> ''"""
    ).to_arrow_table()
    counts = {
        "media": media.num_rows,
        "files": 0,
        "not_files": 0,
        "hashed": 0,
        "errors": 0,
        "video_support": video_support() is not None,
        "clusters": 0,
    }
    empty_actions = pa.schema(
        [
            ("platform", pa.string()),
            ("account_id", pa.string()),
            ("post_id", pa.string()),
            ("created_at", pa.timestamp("us")),
            ("object_type", pa.string()),
            ("object_id", pa.string()),
        ]
    ).empty_table()
    if media.num_rows == 0:
        return empty_actions, CLUSTERS.empty_table(), counts
    with ExitStack() as views:  # every view registered below is unregistered at the end, even on an error
        # resolve each distinct (source file, media) once
        views.enter_context(registered(con, _media=media))
        pairs = con.sql("SELECT DISTINCT source_file, m FROM _media").to_arrow_table().to_pylist()
        resolved = []
        for row in pairs:  # per distinct media reference, not per post
            path = _resolve(row["m"], row["source_file"], media_dir)
            resolved.append({"source_file": row["source_file"], "m": row["m"], "path": path})
        media_paths = pa.Table.from_pylist(
            resolved, schema=pa.schema([("source_file", pa.string()), ("m", pa.string()), ("path", pa.string())])
        )
        views.enter_context(registered(con, _media_paths=media_paths))
        paths = sorted({r["path"] for r in resolved if r["path"]})
        counts["files"] = len(paths)
        counts["not_files"] = sum(1 for r in resolved if not r["path"])
        hashes = hash_images(paths) if paths else hash_images([])
        counts["hashed"] = int(pc.sum(hashes["phash"].is_valid()).as_py() or 0)
        counts["errors"] = hashes.num_rows - counts["hashed"]
        error_reasons = hashes.filter(hashes["phash"].is_null())
        counts["error_examples"] = error_reasons.slice(0, 5).select(["path", "error"]).to_pylist()
        views.enter_context(registered(con, _media_hashes=hashes))
        per_post = con.sql(
            """SELECT DISTINCT x.key, x.platform, x.post_id, x.account_id, x.created_at, h.phash
               FROM _media x JOIN _media_paths r ON r.source_file IS NOT DISTINCT FROM x.source_file AND r.m = x.m
               JOIN _media_hashes h ON h.path = r.path WHERE h.phash IS NOT NULL ORDER BY x.key, h.phash"""
        ).to_arrow_table()
        clusters, members = cluster_images(per_post["key"], per_post["phash"], params)
        counts["clusters"] = clusters.num_rows
        views.enter_context(registered(con, _img_members=members, _img_posts=per_post))
        actions = con.sql(
            """SELECT platform, account_id, post_id, created_at, 'image_hash' AS object_type, phash AS object_id
               FROM _img_posts WHERE account_id IS NOT NULL AND created_at IS NOT NULL
               UNION ALL
               SELECT DISTINCT p.platform, p.account_id, p.post_id, p.created_at, 'image_cluster', m.cluster_id
               FROM _img_members m JOIN _img_posts p ON p.key = m.key AND p.phash = m.phash
               WHERE p.account_id IS NOT NULL AND p.created_at IS NOT NULL"""
        ).to_arrow_table()
        img = clusters.select(
            ["cluster_id", "distinct_hashes", "representative_key", "representative_phash", "max_distance"]
        )
        img = pa.table(
            {
                "cluster_id": img["cluster_id"],
                "type": pa.array(["image"] * img.num_rows, pa.string()),
                "variants": img["distinct_hashes"],
                "representative_post_id": img["representative_key"],
                "representative_text": img["representative_phash"],
                "min_similarity": pc.subtract(1.0, pc.divide(img["max_distance"].cast(pa.float64()), 64.0)),
            }
        )
        # one member row per post (a post with two images of one cluster counts once)
        img_m = con.sql("SELECT DISTINCT key AS post_id, cluster_id FROM _img_members").to_arrow_table()
        img_p = con.sql("SELECT DISTINCT key, account_id, created_at FROM _img_posts").to_arrow_table()
        views.enter_context(registered(con, _img_m=img_m, _img_p=img_p))
        summary = _summarise(con, img, "_img_m", "image", "_img_p")
        return actions, summary, counts


def _resolve(ref: str, source_file: str | None, media_dir: str | Path | None) -> str | None:
    if "://" in ref:
        return None
    candidates = [Path(ref)]
    if source_file:
        candidates.append(Path(source_file).parent / ref)
    if media_dir:
        candidates.append(Path(media_dir) / ref)
        candidates.append(Path(media_dir) / Path(ref).name)
    for c in candidates:
        try:
            if c.is_file():
                return str(c.resolve())
        except OSError:
            continue
    return None


def write_csv(clusters: pa.Table, path: str | Path) -> None:
    """Clusters as CSV, one row per cluster, member posts space-separated; text cells formula-safe."""
    write_table(clusters, path, list_sep=" ")

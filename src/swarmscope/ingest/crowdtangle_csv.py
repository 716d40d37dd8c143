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
  dashboard was set to. An abbreviation with one meaning in common use
  (``_OFFSETS``: UTC/GMT, the US, European, Latin American, African, Asian
  and Australian ones, e.g. BRT, MSK, CEST, EDT) gives its fixed offset and
  ignores ``--timezone``. An ambiguous one (``_AMBIGUOUS``: IST, BST, CST,
  AST, GST, SST, AMT, ECT) is never guessed: it is read as the local clock of
  ``ReadOptions.timezone`` when that zone's UTC offset at that time is one of
  its meanings, else the row is quarantined with a reason listing them. An
  unknown abbreviation is quarantined. A numeric offset, ``GMT+3`` or an
  IANA name after the time is applied. A time without a zone is read in
  ``--timezone``, else taken as UTC. Done in SQL over the whole column.

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
from .telegram_desktop import has_zone_sql
from .youtube import text_lists

NAME = "crowdtangle_csv"
DESCRIPTION = "CrowdTangle CSV export (Facebook/Instagram: Post Created, URL, ...) or Meta Content Library CSV"

# Zone abbreviations with one meaning in common use → UTC offset. CrowdTangle wrote "Post Created"
# in the zone the dashboard was set to, with its short name (Java's, e.g. BRT for Brasilia).
_OFFSETS = {
    "UTC": "+00:00",
    "UT": "+00:00",
    "GMT": "+00:00",
    "WET": "+00:00",
    "WEST": "+01:00",
    "CET": "+01:00",
    "CEST": "+02:00",
    "EET": "+02:00",
    "EEST": "+03:00",
    "MSK": "+03:00",
    "TRT": "+03:00",
    "WAT": "+01:00",
    "CAT": "+02:00",
    "SAST": "+02:00",
    "EAT": "+03:00",
    "IDT": "+03:00",
    "IRST": "+03:30",
    "IRDT": "+04:30",
    "PKT": "+05:00",
    "NPT": "+05:45",
    "ICT": "+07:00",
    "WIB": "+07:00",
    "WITA": "+08:00",
    "WIT": "+09:00",
    "PHT": "+08:00",
    "MYT": "+08:00",
    "SGT": "+08:00",
    "HKT": "+08:00",
    "AWST": "+08:00",
    "JST": "+09:00",
    "KST": "+09:00",
    "ACST": "+09:30",
    "ACDT": "+10:30",
    "AEST": "+10:00",
    "AEDT": "+11:00",
    "NZST": "+12:00",
    "NZDT": "+13:00",
    "NST": "-03:30",
    "NDT": "-02:30",
    "ADT": "-03:00",
    "EST": "-05:00",
    "EDT": "-04:00",
    "CDT": "-05:00",
    "MST": "-07:00",
    "MDT": "-06:00",
    "PST": "-08:00",
    "PDT": "-07:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "HST": "-10:00",
    "BRT": "-03:00",
    "BRST": "-02:00",
    "ART": "-03:00",
    "UYT": "-03:00",
    "CLT": "-04:00",
    "CLST": "-03:00",
    "PYT": "-04:00",
    "PYST": "-03:00",
    "BOT": "-04:00",
    "VET": "-04:00",
    "COT": "-05:00",
    "PET": "-05:00",
}
# Abbreviations in common use for zones of different offsets: (offset in minutes, meaning, IANA zone).
# Never guessed: such a time is quarantined unless --timezone names a zone whose offset at that
# time is one of these.
_AMBIGUOUS = {
    "IST": [
        (330, "India", "Asia/Kolkata"),
        (60, "Irish summer time", "Europe/Dublin"),
        (120, "Israel", "Asia/Jerusalem"),
    ],
    "BST": [(60, "British summer time", "Europe/London"), (360, "Bangladesh", "Asia/Dhaka")],
    "CST": [(-360, "US Central", "America/Chicago"), (480, "China", "Asia/Shanghai"), (-300, "Cuba", "America/Havana")],
    "AST": [(-240, "Atlantic", "America/Halifax"), (180, "Arabia", "Asia/Riyadh")],
    "GST": [(240, "Gulf", "Asia/Dubai"), (-120, "South Georgia", "Atlantic/South_Georgia")],
    "SST": [(-660, "Samoa", "Pacific/Pago_Pago"), (480, "Singapore", "Asia/Singapore")],
    "AMT": [(-240, "Amazon", "America/Manaus"), (240, "Armenia", "Asia/Yerevan")],
    "ECT": [(-300, "Ecuador", "America/Guayaquil"), (-240, "Eastern Caribbean", "America/Port_of_Spain")],
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


def _lit(x: str | None) -> str:
    return "NULL" if x is None else "'" + x.replace("'", "''") + "'"


def _offset(minutes: int) -> str:
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _hhmm(minutes_sql: str) -> str:
    """SQL: minutes east of UTC as "+05:30"."""
    m = f"abs({minutes_sql})"
    return (
        f"(CASE WHEN {minutes_sql} < 0 THEN '-' ELSE '+' END || lpad(({m} // 60)::VARCHAR, 2, '0') || ':' "
        f"|| lpad(({m} % 60)::VARCHAR, 2, '0'))"
    )


class _Parts:
    """SQL pieces of a CrowdTangle time "YYYY-MM-DD HH:MM:SS ABBR" (``expr`` is a column expression)."""

    def __init__(self, expr: str, zone: str | None):
        self.raw = f"trim({expr})"
        self.abbr = f"upper(regexp_extract({self.raw}, '\\s([A-Za-z]{{2,5}})$', 1))"
        self.local = f"regexp_replace({self.raw}, '\\s+[A-Za-z]{{2,5}}$', '')"
        self.local_ts = f"TRY_CAST({self.local} AS TIMESTAMP)"
        self.zone = _lit(zone)
        # the --timezone zone's reading of the local time, and its offset then (minutes east of UTC)
        # try(): ICU fails (not NULL) on a time near the ends of the timestamp range (year 290309 BC)
        self.in_zone = (
            f"(try(timezone({self.zone}, {self.local_ts})) AT TIME ZONE 'UTC')" if zone else "NULL::TIMESTAMP"
        )
        self.zone_offset = f"date_diff('minute', {self.in_zone}, {self.local_ts})"
        # a zone written another way: an offset after the time ("-03", "+0530", "Z"), GMT+3, an IANA name
        self.other_zone = (
            f"({has_zone_sql(self.raw)} OR regexp_matches({self.raw}, '\\s(UTC|GMT)[+-][0-9]{{1,2}}(:?[0-9]{{2}})?$') "
            f"OR regexp_matches({self.raw}, '\\s[A-Za-z]+/[A-Za-z0-9_/+-]+$'))"
        )
        self.with_zone = f"regexp_replace({self.raw}, '\\s+([+-][0-9]{{2}}(:?[0-9]{{2}})?)$', '\\1')"


def ct_time(expr: str, zone: str | None = None) -> str:
    """SQL: "2021-01-05 18:00:13 EST" → naive UTC; NULL for an unknown or unresolved zone abbreviation.

    A known abbreviation gives its fixed offset (``zone`` is not used). An ambiguous one
    (``_AMBIGUOUS``) is read in ``zone`` when that zone's offset at the time is one of its
    meanings, else NULL. A time without a zone is read in ``zone``, else as UTC.
    """
    p = _Parts(expr, zone)
    fixed = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _OFFSETS.items())
    cands = " ".join(f"WHEN '{k}' THEN {[m for m, _, _ in v]}" for k, v in _AMBIGUOUS.items())
    zoneless = f"try(timezone({p.zone}, {t.text_time(p.raw)})) AT TIME ZONE 'UTC'" if zone else t.text_time(p.raw)
    return (
        f"(CASE WHEN {p.abbr} IN ({', '.join(repr(k) for k in _OFFSETS)}) "
        f"THEN TRY_CAST({p.local} || (CASE {p.abbr} {fixed} END) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' "
        f"WHEN {p.abbr} IN ({', '.join(repr(k) for k in _AMBIGUOUS)}) "
        f"THEN CASE WHEN list_contains(CASE {p.abbr} {cands} END, {p.zone_offset}) THEN {p.in_zone} END "
        f"WHEN {p.abbr} <> '' AND NOT {p.other_zone} THEN NULL "
        f"WHEN {p.other_zone} THEN TRY_CAST({p.with_zone} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' "
        f"ELSE {zoneless} END)"
    )


def ct_time_reason(expr: str, field: str, zone: str | None = None) -> str:
    """SQL: why ``ct_time`` gave NULL for a non-empty value (call only where it did)."""
    p = _Parts(expr, zone)
    value = f"'{field}=' || left({p.raw}, 64)"
    meanings = " ".join(
        f"WHEN '{k}' THEN '{' or '.join(f'{name} {_offset(m)}' for m, name, _ in v)}'" for k, v in _AMBIGUOUS.items()
    )
    examples = " ".join(f"WHEN '{k}' THEN '{', '.join(z for _, _, z in v)}'" for k, v in _AMBIGUOUS.items())
    how = (
        f"'--timezone {zone} gives UTC' || {_hhmm(p.zone_offset)} || ' at that time, none of them'"
        if zone
        else f"'rerun with --timezone ZONE (IANA name, e.g. ' || (CASE {p.abbr} {examples} END) || ')'"
    )
    unparseable = (
        f"'unparseable timestamp ' || {value} || ' (expected YYYY-MM-DD HH:MM:SS and a known zone abbreviation)'"
    )
    # coalesce: a reason is never NULL (a NULL reason would store the post without a time); the
    # ambiguous case has none where the zone's offset is unknown ("infinity IST")
    return (
        f"coalesce(CASE WHEN {p.abbr} IN ({', '.join(repr(k) for k in _AMBIGUOUS)}) "
        f"THEN 'ambiguous zone abbreviation ' || {p.abbr} || ' in ' || {value} || ' (' || "
        f"(CASE {p.abbr} {meanings} END) || '): ' || {how} "
        f"WHEN {p.abbr} <> '' AND {p.abbr} NOT IN ({', '.join(repr(k) for k in _OFFSETS)}) AND NOT {p.other_zone} "
        f"THEN 'unknown zone abbreviation ' || {p.abbr} || ' in ' || {value} "
        f"|| ' (expected YYYY-MM-DD HH:MM:SS and a zone abbreviation listed in docs/formats.md)' "
        f"ELSE {unparseable} END, {unparseable})"
    )


def _crowdtangle(con, h: t.Header, q, zone: str | None) -> dict:
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
               {ct_time(f("Post Created"), zone)} AS created_at, {f("Post Created")} AS created_raw,
               body AS text, 'post' AS kind,
               {text_lists("body")},
               {f("Link")} AS link, {f("Final Link")} AS final_link,
               list_filter([{f("Photo")}], lambda x: x IS NOT NULL) AS media,
               {t.integer(f("Likes"))} AS like_count, {t.integer(f("Shares"))} AS repost_count,
               {t.integer(f("Comments"))} AS reply_count,
               {t.integer(f("Post Views", "Views", "Total Views"))} AS view_count,
               {f("User Name")} AS handle, {f("Page Name", "Group Name", "Account")} AS display_name,
               {t.text_field(h, "Page Description")} AS description,
               {ct_time(f("Page Created"), zone)} AS account_created_at,
               {t.integer(f("Followers at Posting", "Likes at Posting"))} AS followers,
               {f("Page Admin Top Country")} AS location,
               {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
        FROM b""",
        [
            required({"URL": "post_id", "Facebook Id or User Name": "account_id", "Post Created": "created_raw"}),
            f"CASE WHEN created_at IS NULL THEN {ct_time_reason('created_raw', 'Post Created', zone)} END",
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
        return (
            _mcl(con, header, q, platform)
            if header.find("creation_time")
            else _crowdtangle(con, header, q, options.timezone)
        )

    yield from t.drive(path, options, _check, transform)

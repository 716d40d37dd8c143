"""Full-text search over a case's posts: an inverted index in plain DuckDB tables, ranked by BM25.

DuckDB's ``fts`` extension is not published for DuckDB 2.0, and nothing is
downloaded at run time, so the index is built here in SQL:

- ``post_docs(doc, platform, post_id, len)``: one row per post, ``doc`` the
  post's rowid in ``posts`` (posts are append-only, so a rowid never moves),
  ``len`` its number of terms;
- ``post_terms(term_key, doc, tf, len)``: one row per (term, post), the term
  as DuckDB's 64-bit ``hash`` of it, sorted by that key so DuckDB's min/max
  zone maps skip every row group without a query term (the docs of a term in
  no particular order); ``len`` repeats the post's length, so BM25 needs no
  join. A key sorts in a third of the time the term strings took (10M posts,
  113M postings); two of a case's million or so terms sharing a key is a
  chance of about 1 in 10^7, and would only add the other term's posts to a
  search's matches;
- ``post_objects(object_type, key, doc)``: the posts by hashtag (folded; a
  repost counts under the hashtags of the post it reposts), URL, domain and
  account id, sorted by type and key;
- ``post_index``: one row: posts indexed, average length, a fingerprint of
  the posts' keys, tokenizer version, build time, and ``hash_probe``, the
  ``hash`` of a fixed string when it was built: a DuckDB whose ``hash``
  differs (another release) would look up other keys, so its index counts
  as stale and is rebuilt.

Terms: the text lower-cased, Arabic diacritics and tatweel removed, Arabic
kaf/yeh folded to their Persian forms, Turkish/Azerbaijani dotless ı folded
to i (``YAŞIL`` and ``yaşıl`` are one word), then every run of Unicode
letters, digits, combining marks and ``_`` (RE2 ``\\p{L}\\p{N}\\p{M}``), up to
64 characters. Scripts without spaces (Chinese, Japanese, Thai) come out as
one term per run: search them by whole run, or by hashtag.

Ranking: Okapi BM25 (k1 1.2, b 0.75: the defaults of Lucene and of DuckDB's
fts), idf ``ln(1 + (N - df + 0.5) / (df + 0.5))``. Every query term must be
in a post (AND). Without ``post_terms``, or when posts were added after the
index was built, the same statement runs over terms made on the fly (a scan:
same results, slower).

With the index a query reads no more than its matches: the object filters
and the rarest term are intersected smallest first, the scores read each
term's postings once (a doc must have them all), and the posts' own columns
(time, language, platform, account) are read by rowid for the matches only.
The total stays exact: on a 10M-post case the costliest page (a hashtag on
357,645 posts) takes about 0.1 s (docs/benchmarks.md). The workbench's
account pages read an account's posts through the same account doc set
(``account_posts_sql``).

Why this module is long: the index and the queries over it are one
contract (the tables, the term fold, a doc being the post's rowid, the
BM25 formula), and every query has two paths that must answer alike, the
stored index and a scan of posts for a case without a current one. Kept
in one file, a change to either side is read next to the other.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from . import model
from .duck import memory_at_most
from .enrich.terms import FOLD_FROM as _FOLD_FROM
from .enrich.terms import FOLD_TO as _FOLD_TO
from .enrich.terms import fold_sql, terms_sql

INDEX_VERSION = 4
K1, B = 1.2, 0.75
MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 32
MAX_LIMIT = 1000
# a stored hashtag's search key: stored tags are NFKC and lower case already, so only the letter forms fold
_TAG_KEY = f"translate(strip_accents(object_id), '{_FOLD_FROM[:4]}', '{_FOLD_TO}')"


RESULT = pa.schema(
    [
        ("platform", pa.string()),
        ("post_id", pa.string()),
        ("account_id", pa.string()),
        ("handle", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("kind", pa.string()),
        ("lang", pa.string()),
        ("text", pa.string()),
        ("url", pa.string()),
        ("score", pa.float64()),
    ]
)


# -- the index -----------------------------------------------------------------------------


def _fingerprint(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    # the rowid is in the hash: the index's docs are rowids, so posts rewritten in another order
    # (nothing in swarmscope does; posts are append-only) would make the next build start afresh
    n, h = con.execute(
        "SELECT count(*), coalesce(sum(hash(platform, post_id, rowid)), 0)::VARCHAR FROM posts"
    ).fetchall()[0]
    return int(n), str(h)


def _has(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main' "
            "AND database_name = current_database()",
            [name],
        ).fetchall()[0][0]
    )


def index_state(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The stored index's row of ``post_index`` (docs, avg_len, fingerprint, version, built_at, hash_probe),
    or None."""
    if not all(_has(con, t) for t in ("post_index", "post_terms", "post_docs", "post_objects")):
        return None
    rel = con.execute("SELECT * FROM post_index")
    names = [d[0] for d in rel.description]
    rows = rel.fetchall()
    return dict(zip(names, rows[0])) if rows else None


def build_index(con: duckdb.DuckDBPyConnection, force: bool = False) -> int:
    """(Re)build the search index of the case's posts; returns the posts indexed.

    Skips the work when the index already covers exactly these posts (same
    count and key fingerprint, same tokenizer version), so calling it again
    is cheap. Built in one transaction: a reader on another connection sees
    the old index or the new one, never half of one.
    """
    n, fp = _fingerprint(con)
    state = index_state(con)
    if (
        not force
        and state is not None
        and state["docs"] == n
        and state["fingerprint"] == fp
        and state["version"] == INDEX_VERSION
        and state.get("hash_probe") == _hash_probe(con)
    ):
        return n
    with memory_at_most(con, INDEX_MEMORY_GIB):
        _build(con, fp)
    return n


# DuckDB's memory while the index is built; beyond it, DuckDB spills to disk. The build's sort and lists
# held 10.6 GiB on a 10M-post case; at 4 GiB it takes as long (92 s) and stays at 4 GiB.
INDEX_MEMORY_GIB = 4.0


def _build(con: duckdb.DuckDBPyConnection, fp: str) -> None:
    from .progress import watching  # each statement's progress on the step bar (it runs 10-50 s at 10M posts)

    con.execute("BEGIN TRANSACTION")
    try:
        # each post's terms as their 64-bit keys: a list of integers, not of strings, is what the postings need
        with watching(con, "terms"):
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _ix_tok AS
                    SELECT rowid AS doc, platform, post_id,
                           list_transform({terms_sql("text")}, lambda t: hash(t)) AS keys
                    FROM posts"""
            )
        with watching(con, "documents"):
            con.execute("""CREATE OR REPLACE TABLE post_docs AS
                           SELECT doc, platform, post_id, len(keys)::INTEGER AS len FROM _ix_tok ORDER BY doc""")
        # tf counted in each post's own short list (a histogram of its keys), not by a GROUP BY over every
        # posting; sorted by the term's key only (the zone maps need nothing more). 1M posts 5.9 -> 3.6 s
        # (tf per post); a 64-bit key instead of the string: 3M posts 30.7 -> 20.8 s; keys hashed before the
        # lists are unnested and tf by histogram instead of a filter per distinct term: IRA's 1.67M posts
        # 17.1 -> 10.2 s for these three statements, same rows (docs/benchmarks.md)
        with watching(con, "postings"):
            con.execute("""CREATE OR REPLACE TABLE post_terms AS
                           SELECT term_key, doc, tf, len FROM (
                               SELECT unnest(map_keys(h)) AS term_key, doc, unnest(map_values(h))::INTEGER AS tf, len
                               FROM (SELECT doc, len(keys)::INTEGER AS len, list_aggregate(keys, 'histogram') AS h
                                     FROM _ix_tok))
                           ORDER BY term_key""")
        with watching(con, "hashtags, links and accounts"):
            con.execute(
                f"""CREATE OR REPLACE TABLE post_objects AS
                    WITH tags AS (SELECT platform, post_id, {_TAG_KEY} AS key FROM actions
                                  WHERE object_type = 'hashtag'),
                    reposts AS (SELECT r.platform, r.post_id, t.key FROM actions r
                                JOIN tags t ON r.object_id = t.platform || ':' || t.post_id
                                WHERE r.object_type = 'repost_of'),
                    keyed AS (SELECT DISTINCT 'hashtag' AS object_type, key, platform, post_id
                              FROM (SELECT * FROM tags UNION ALL SELECT * FROM reposts)
                              UNION ALL
                              SELECT DISTINCT object_type, object_id, platform, post_id FROM actions
                              WHERE object_type IN ('url', 'domain'))
                    SELECT k.object_type, k.key, d.doc FROM keyed k JOIN post_docs d USING (platform, post_id)
                    UNION ALL
                    SELECT 'account', account_id, rowid FROM posts
                    ORDER BY 1, 2"""
            )
        con.execute("DROP TABLE _ix_tok")
        con.execute(
            """CREATE OR REPLACE TABLE post_index AS
               SELECT count(*)::BIGINT AS docs, coalesce(avg(len), 0)::DOUBLE AS avg_len,
                      (SELECT count(*) FROM post_terms)::BIGINT AS postings, ?::VARCHAR AS fingerprint,
                      ?::INTEGER AS version, now()::TIMESTAMP AS built_at, hash(?) AS hash_probe
               FROM post_docs""",
            [fp, INDEX_VERSION, _HASH_PROBE],
        )
        with watching(con, "writing"):
            con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


_HASH_PROBE = "swarmscope search index"


def _hash_probe(con: duckdb.DuckDBPyConnection) -> int:
    """This DuckDB's ``hash`` of a fixed string: the terms' keys were made by the same function when equal."""
    return int(con.execute("SELECT hash(?)", [_HASH_PROBE]).fetchall()[0][0])


def index_is_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stored index covers the posts now in the case (posts are append-only: a count check)."""
    state = index_state(con)
    if state is None or state["version"] != INDEX_VERSION or state.get("hash_probe") != _hash_probe(con):
        return False
    return state["docs"] == con.execute("SELECT count(*) FROM posts").fetchall()[0][0]


def account_posts_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A FROM clause: the posts (alias p) of the account given as $platform and $account_id.

    With a current index, through its ``account`` doc set (sorted keys: the rowids in about a millisecond,
    then the posts read by rowid); else a scan of the posts' account column. On the 10M-post case, for an
    account whose 61 posts lie across the whole posts table: count 124 -> 1 ms, first and last post
    217 -> 6 ms, a page of 50 posts 163 -> 32 ms. Same rows either way."""
    if index_is_current(con):
        return (
            "posts p JOIN (SELECT doc FROM post_objects WHERE object_type = 'account' AND key = $account_id) m "
            "ON p.rowid = m.doc WHERE p.platform = $platform"
        )
    return "posts p WHERE p.platform = $platform AND p.account_id = $account_id"


# -- the query -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Query:
    terms: tuple[str, ...]
    where: tuple[str, ...]  # conditions on the posts' own columns (alias p)
    objects: tuple[tuple[str, str], ...]  # (object_type, SQL condition on its key): hashtag, url, domain, account
    params: dict
    # ``where`` over the index's doc sets: the same posts, with the account condition in a form DuckDB does
    # not push into a scan of posts (an equality on account_id becomes a filter of the whole column, 130 ms
    # on 10M posts, where the rowids of the doc set already name the account's posts)
    indexed_where: tuple[str, ...] = ()


def search_posts(
    con: duckdb.DuckDBPyConnection,
    *,
    q: str | None = None,
    hashtag: str | None = None,
    url: str | None = None,
    domain: str | None = None,
    account: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    platform: str | None = None,
    lang: str | None = None,
    limit: int = 50,
    offset: int = 0,
    use_index: bool | None = None,
) -> tuple[int, pa.Table]:
    """Posts matching every given filter: (exact total, one page as an Arrow table, ``RESULT`` schema).

    - ``q``: words, all required (AND), ranked by BM25 (``score``); without
      ``q`` the page is in time order and ``score`` is null;
    - ``hashtag``: with or without '#', any case (the ``hashtag`` actions,
      and reposts of the posts that carry it);
    - ``url``: a URL the post links to, compared in canonical form
      (tracking parameters dropped); ``domain``: its registered domain
      (``www.bbc.co.uk`` finds ``bbc.co.uk``);
    - ``account``: account id or handle (with or without '@'), any case;
    - ``date_from`` / ``date_to``: ISO dates or times, inclusive (a date
      ``date_to`` takes the whole day), UTC unless an offset is given;
    - ``platform``; ``lang`` (ISO 639-1; ``unknown`` for posts without one);
    - ``limit`` 1-1000, ``offset`` >= 0.

    Empty strings count as not given. ``use_index``: None uses the index
    when it is current, False forces the scan (for checks), True requires it.
    Raises ValueError naming the bad parameter.
    """
    query = _parse(
        con,
        q=q,
        hashtag=hashtag,
        url=url,
        domain=domain,
        account=account,
        date_from=date_from,
        date_to=date_to,
        platform=platform,
        lang=lang,
    )
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a whole number >= 0, got {offset!r}")
    if use_index is None:
        use_index = bool(query.terms or query.objects) and index_is_current(con)
    elif use_index and not index_is_current(con):
        raise ValueError("use_index: the case has no current search index; run build_index first")
    sizes = _set_sizes(con, query) if use_index else []
    body, params, count = _statement(query, sizes or None, offset + limit)
    # The matches are found on keys and filter columns only; text and the rest are fetched for one page.
    # The total: a scan counts in its one pass; over the index, a count of its own when the index alone
    # answers it (milliseconds), else the matches are materialised once for the page and the count (a
    # count over the page's window costs more: it holds every match's columns in a window).
    # limit and offset are checked whole numbers, written into the statement: with a parameter as
    # LIMIT, DuckDB sorts every match instead of keeping the top rows (0.48 s instead of 0.14 s).
    order = "score DESC NULLS LAST, created_at NULLS LAST, platform, post_id"
    if count is None:
        matches, counted = f"SELECT *, count(*) OVER () AS total FROM ({body})", "page.total"
    elif query.indexed_where:  # count is None for a scan: here the matches come from the index
        matches, counted, count = "SELECT * FROM matches", "(SELECT count(*) FROM matches) AS total", None
    else:
        matches, counted = body, "NULL AS total"
    sql = f"""
        WITH {f"matches AS MATERIALIZED ({body})," if counted.startswith("(") else ""}
        page AS (SELECT * FROM ({matches}) ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)})
        SELECT p.platform, p.post_id, p.account_id, p.created_at, p.kind, p.lang, p.text, page.score, {counted}
        FROM page JOIN posts p ON p.rowid = page.rid
        ORDER BY {", ".join("page." + o for o in order.split(", "))}"""
    rel = con.execute(sql, params)
    names = [d[0] for d in rel.description]
    rows = rel.fetchall()
    if rows and count is None:
        total = int(rows[0][names.index("total")])
    elif offset == 0 and len(rows) < limit:
        total = len(rows)
    else:
        total = int(con.execute(count or f"SELECT count(*) FROM ({body})", params).fetchall()[0][0])
    from .findings import post_url

    cols = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    cols["url"] = [post_url(p, i) for p, i in zip(cols["platform"], cols["post_id"])]
    # the page's handles: a lookup of its accounts (a join would hash the whole accounts table)
    handles = (
        dict(
            reversed(
                con.execute(
                    "SELECT (platform, account_id), handle FROM accounts WHERE account_id IN (SELECT unnest($ids))",
                    {"ids": sorted(set(cols["account_id"]) - {None})},
                ).fetchall()
            )
        )
        if rows
        else {}
    )
    cols["handle"] = [handles.get((p, a)) for p, a in zip(cols["platform"], cols["account_id"])]
    return total, pa.table({f.name: pa.array(cols[f.name], f.type) for f in RESULT}, schema=RESULT)


def _given(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {type(value).__name__}")
    value = re.sub("[\ud800-\udfff\x00]", "\ufffd", value)
    return value.strip() or None


def _parse(con: duckdb.DuckDBPyConnection, **raw: str | None) -> _Query:
    v = {k: _given(x, k) for k, x in raw.items()}
    where: list[str] = []
    objects: list[tuple[str, str]] = []
    params: dict = {}
    terms: tuple[str, ...] = ()
    account_where: str | None = None
    if v["q"] is not None:
        if len(v["q"]) > MAX_QUERY_CHARS:
            raise ValueError(f"q is {len(v['q']):,} characters; at most {MAX_QUERY_CHARS:,}")
        found = con.execute(f"SELECT list_distinct({terms_sql('$q')})", {"q": v["q"]}).fetchall()[0][0] or []
        terms = tuple(sorted(found))
        if not terms:
            raise ValueError(f"q: no words to search for in {v['q']!r} (words are letters and digits)")
        if len(terms) > MAX_QUERY_TERMS:
            raise ValueError(f"q has {len(terms)} distinct words; at most {MAX_QUERY_TERMS}")
    if v["hashtag"] is not None:
        tag = unicodedata.normalize("NFKC", v["hashtag"]).lstrip("#＃").strip()
        if not tag or len(tag) > 200:
            raise ValueError(f"hashtag must be 1-200 characters after '#', got {v['hashtag']!r}")
        # the hashtag actions (enrich: NFKC, lower case), plus reposts of the posts that carry it
        objects.append(("hashtag", f"= {fold_sql('$hashtag')}"))
        tag = tag.lower()
        params["hashtag"] = tag
    if v["url"] is not None:
        from .enrich.urls import canonical_url_sql

        canon = con.execute(
            f"SELECT {canonical_url_sql('u')} FROM (SELECT $u::VARCHAR AS u)", {"u": v["url"]}
        ).fetchall()[0][0]
        if not canon or len(v["url"]) > 4096:
            raise ValueError(f"url must be an absolute URL such as https://example.com/page, got {v['url']!r}")
        objects.append(("url", "= $url"))
        params["url"] = canon
    if v["domain"] is not None:
        from .enrich.urls import registered_domain

        host = v["domain"].lower()
        host = re.sub(r"^[a-z][a-z0-9+.\-]*://", "", host).split("/")[0].split(":")[0]
        host = host.removeprefix("www.").strip(".")
        if not host or len(host) > 253 or not re.fullmatch(r"[\w.\-]+", host):
            raise ValueError(f"domain must be a host name such as example.com, got {v['domain']!r}")
        objects.append(("domain", "= $domain"))
        params["domain"] = registered_domain(host)
    if v["account"] is not None:
        acc = v["account"].lstrip("@")
        if not acc or len(acc) > 500:
            raise ValueError(f"account must be an account id or handle, got {v['account']!r}")
        # the accounts it names are looked up first: the posts are then read for those ids only
        named = con.execute(
            "SELECT DISTINCT platform, account_id FROM accounts "
            "WHERE lower(account_id) = lower($a) OR lower(handle) = lower($a) ORDER BY ALL",
            {"a": acc},
        ).fetchall()
        ids = ["$account"] + [f"$account_{i}" for i in range(len(named))]
        pairs = " OR ".join(f"(p.platform = $account_p{i} AND p.account_id = $account_{i})" for i in range(len(named)))
        where.append(
            f"p.account_id IN ({', '.join(ids)}) AND (p.account_id = $account{' OR ' + pairs if pairs else ''})"
        )
        # the index's doc set holds the posts of every id in ids on any platform: only the named ids'
        # platforms are left to check, as a (platform, id) list, which DuckDB evaluates on the docs' rows
        named_pairs = ", ".join(f"($account_p{i}, $account_{i})" for i in range(len(named)))
        account_where = f"(p.account_id = $account OR (p.platform, p.account_id) IN ({named_pairs}))" if named else None
        objects.append(("account", f"IN ({', '.join(ids)})"))  # the index's doc set; the platform: where
        params["account"] = acc
        for i, (plat, aid) in enumerate(named):
            params[f"account_{i}"], params[f"account_p{i}"] = aid, plat
    start = _time(v["date_from"], "date_from", end=False)
    stop = _time(v["date_to"], "date_to", end=True)
    if start is not None and stop is not None and start > stop[0]:
        raise ValueError(f"date_from ({v['date_from']}) is after date_to ({v['date_to']})")
    if start is not None:
        where.append("p.created_at >= $date_from")
        params["date_from"] = start
    if stop is not None:
        where.append("p.created_at < $date_to" if stop[1] else "p.created_at <= $date_to")
        params["date_to"] = stop[0]
    if v["platform"] is not None:
        if v["platform"].lower() not in model.PLATFORMS:
            raise ValueError(f"platform must be one of {', '.join(model.PLATFORMS)}, got {v['platform']!r}")
        where.append("p.platform = $platform")
        params["platform"] = v["platform"].lower()
    if v["lang"] is not None:
        lang = v["lang"].lower()
        if lang == "unknown":
            where.append("p.lang IS NULL")
        elif re.fullmatch(r"[a-z]{2,3}", lang):
            where.append("lower(p.lang) = $lang")
            params["lang"] = lang
        else:
            raise ValueError(f"lang must be an ISO 639-1 code such as 'en' or 'az', or 'unknown'; got {v['lang']!r}")
    indexed_where = tuple(w for w in where if "$account" not in w) + ((account_where,) if account_where else ())
    return _Query(terms, tuple(where), tuple(objects), params, indexed_where)


def _time(value: str | None, name: str, end: bool) -> tuple | dt.datetime | None:
    """A bound as naive UTC; for ``end`` also whether it is exclusive (a whole date: up to the next day)."""
    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
            return (day + dt.timedelta(days=1), True) if end else day
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{name} must be an ISO date (2024-11-03) or time (2024-11-03T14:00:00Z), got {value!r}"
        ) from None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return (t, False) if end else t


def _set_sizes(con: duckdb.DuckDBPyConnection, query: _Query) -> list[tuple[str, str, int]]:
    """Every doc set the query intersects, from the stored index, with its size: [(kind, key SQL, size)]
    where kind is 'term' or an object type. The sizes are counts over sorted keys (zone maps: milliseconds)."""
    sets = [("term", f"$t{i}") for i in range(len(query.terms))] + list(query.objects)
    params = query.params | {f"t{i}": t for i, t in enumerate(query.terms)}
    parts = [
        f"SELECT {i} AS i, count(*) AS n FROM post_terms WHERE term_key = hash({key})"
        if kind == "term"
        else f"SELECT {i} AS i, count(*) AS n FROM post_objects WHERE object_type = '{kind}' AND key {key}"
        for i, (kind, key) in enumerate(sets)
    ]
    if not parts:
        return []
    sql = " UNION ALL ".join(parts)
    sizes = dict(con.execute(sql, {k: v for k, v in params.items() if k in re.findall(r"\$(\w+)", sql)}).fetchall())
    return [(kind, key, int(sizes[i])) for i, (kind, key) in enumerate(sets)]


def _statement(
    query: _Query, sizes: list[tuple[str, str, int]] | None, keep: int | None = None
) -> tuple[str, dict, str | None]:
    """The matches as one SELECT (rid = the post's rowid, platform, post_id, created_at, score), over the
    stored index (``sizes`` from _set_sizes) or a scan (``sizes`` None), reading no text column of posts;
    with the index, also the SQL that counts them (a scan counts them in its one pass)."""
    params = dict(query.params)
    names = [f"t{i}" for i in range(len(query.terms))]
    params |= dict(zip(names, query.terms))
    cols = "p.rowid AS rid, p.platform, p.post_id, p.created_at"
    if sizes:
        return _indexed(query, sizes, params, cols, keep)
    where = list(query.where)
    for kind, key in query.objects:  # the scan: the actions, as the index was built from them
        if kind == "account":
            continue  # the posts' own column, in where
        found = f"SELECT platform, post_id FROM actions WHERE object_type = '{kind}' AND "
        if kind == "hashtag":
            found += f"{_TAG_KEY} {key}"
            found = f"""{found} UNION ALL SELECT platform, post_id FROM actions WHERE object_type = 'repost_of'
                        AND object_id IN (SELECT platform || ':' || post_id FROM ({found}))"""
        else:
            found += f"object_id {key}"
        where.append(f"(p.platform, p.post_id) IN ({found})")
    where_sql = " AND ".join(where) or "TRUE"
    if not query.terms:
        return f"SELECT {cols}, NULL::DOUBLE AS score FROM posts p WHERE {where_sql}", params, None
    wanted = ", ".join(f"${n}" for n in names)
    body = f"""
        WITH ix_all AS (SELECT rowid AS doc, platform, post_id, {terms_sql("text")} AS toks FROM posts),
        ix_docs AS (SELECT doc, len(toks) AS len FROM ix_all),
        postings AS (SELECT term, doc, count(*) AS tf FROM (SELECT doc, unnest(toks) AS term FROM ix_all)
                     WHERE term IN ({wanted}) GROUP BY term, doc),
        ix_stats AS (SELECT count(*) AS n, coalesce(avg(len), 0)::DOUBLE AS avg_len FROM ix_docs),
        df AS (SELECT term, count(*) AS df FROM postings GROUP BY term),
        matched AS (
            SELECT t.doc, {_bm25("d.len")} AS score
            FROM postings t JOIN df USING (term) JOIN ix_docs d USING (doc) CROSS JOIN ix_stats s
            GROUP BY t.doc HAVING count(*) = {len(names)})
        SELECT {cols}, m.score FROM posts p JOIN matched m ON p.rowid = m.doc WHERE {where_sql}"""
    return body, params, None


def _bm25(length: str, summed: bool = True) -> str:
    """SQL of the BM25 score over t (term, doc, tf), df (term, df), s (n, avg_len) and the post's ``length``;
    without ``summed``, of one posting (a one-term query: the same number as its sum over one row)."""
    one = (
        f"ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5)) * t.tf * ({K1} + 1)"
        f" / (t.tf + {K1} * (1 - {B} + {B} * {length} / s.avg_len))"
    )
    return f"round(sum({one}), 6)" if summed else f"round({one}, 6)"


def _indexed(
    query: _Query, sizes: list[tuple[str, str, int]], params: dict, cols: str, keep: int | None
) -> tuple[str, dict, str]:
    """The matches over the stored index: the doc sets intersected smallest first, then the BM25 scores
    of the survivors only, then their posts' rows fetched by rowid for the remaining conditions.
    Also the SQL of their count, which skips the scores, and the posts when no condition reads them.

    ``keep`` (offset + limit): when no condition reads the posts, only the matches scoring at least
    the keep-th best score are fetched from posts (ties included, so the order by time and key that
    breaks them is unchanged): a common word's 2.5M matches are ranked in the index alone."""

    def docs(kind: str, key: str) -> str:
        if kind == "term":
            return f"SELECT doc FROM post_terms WHERE term_key = hash({key})"
        return f"SELECT doc FROM post_objects WHERE object_type = '{kind}' AND key {key}"

    ordered = sorted(sizes, key=lambda x: x[2])
    steps = [f"m0 AS ({docs(*ordered[0][:2])})"]
    for i, (kind, key, _) in enumerate(ordered[1:], 1):
        # the larger set is scanned, the smaller one (the matches so far) hashed
        steps.append(f"m{i} AS (SELECT doc FROM ({docs(kind, key)}) s SEMI JOIN m{i - 1} USING (doc))")
    matched = f"m{len(ordered) - 1}"
    where = " AND ".join(query.indexed_where) or "TRUE"
    count = f"WITH {', '.join(steps)} SELECT count(*) FROM " + (
        f"posts p JOIN {matched} m ON p.rowid = m.doc WHERE {where}" if query.indexed_where else matched
    )
    if not query.terms:
        return (
            f"WITH {', '.join(steps)} SELECT {cols}, NULL::DOUBLE AS score FROM posts p "
            f"JOIN {matched} m ON p.rowid = m.doc WHERE {where}",
            params,
            count,
        )
    names = [f"t{i}" for i in range(len(query.terms))]
    dfs = [next(n for kind, key, n in sizes if kind == "term" and key == f"${name}") for name in names]
    df_rows = ", ".join(f"(hash(${name}), {n})" for name, n in zip(names, dfs))
    # The scores read every query term's postings once, and a doc having them all is their count per
    # doc: so the chain intersects the object sets and only the rarest term, and the other terms'
    # postings are not read twice ("the news" on 10M posts, 2.5M postings of "the": 120 -> 100 ms).
    # The count above keeps the whole chain: it reads no scores.
    rarest = min((x for x in sizes if x[0] == "term"), key=lambda x: x[2])
    ordered = [x for x in ordered if x[0] != "term" or x is rarest]
    steps = [f"m0 AS ({docs(*ordered[0][:2])})"]
    for i, (kind, key, _) in enumerate(ordered[1:], 1):
        steps.append(f"m{i} AS (SELECT doc FROM ({docs(kind, key)}) s SEMI JOIN m{i - 1} USING (doc))")
    matched = f"m{len(ordered) - 1}"
    body = f"""
        WITH {", ".join(steps)},
        df(term_key, df) AS (VALUES {df_rows}),
        s AS (SELECT docs AS n, avg_len FROM post_index),
        scored AS (
            SELECT t.doc, {_bm25("t.len", summed=len(names) > 1)} AS score
            FROM (SELECT term_key, doc, tf, len FROM post_terms
                  WHERE term_key IN ({", ".join(f"hash(${n})" for n in names)})) t
            {f"SEMI JOIN {matched} USING (doc)" if len(ordered) > 1 or len(names) > 1 else ""}
            JOIN df USING (term_key) CROSS JOIN s
            {f"GROUP BY t.doc HAVING count(*) = {len(names)}" if len(names) > 1 else ""}),
        kept AS MATERIALIZED ({
        "SELECT * FROM scored"
        if query.indexed_where or keep is None
        else f"SELECT * FROM scored WHERE score >= (SELECT min(score) FROM "
        f"(SELECT score FROM scored ORDER BY score DESC LIMIT {int(keep)}))"
    })
        SELECT {cols}, m.score FROM posts p JOIN kept m ON p.rowid = m.doc WHERE {where}"""
    return body, params, count

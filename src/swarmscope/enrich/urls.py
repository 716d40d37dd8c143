"""Canonical URLs and registered domains, in SQL over whole columns.

Canonical URL: scheme and host lower-cased, default port dropped, fragment
dropped, tracking parameters removed (``utm_*``, ``fbclid``, ``gclid`` and
the others in ``TRACKING_PARAMS``), a trailing ``?`` dropped. Path and the
remaining query keep their case: they may be case-sensitive.

Registered domain: the host's public suffix plus one label (``bbc.co.uk``),
from the Public Suffix List snapshot that tldextract ships (never fetched at
run time), computed once per distinct host.
"""

from __future__ import annotations

from functools import lru_cache

import duckdb
import pyarrow as pa

TRACKING_PARAMS = (
    "utm_[a-z_]+",
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "igsh",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "ref_src",
    "ref_url",
    "si",
    "feature",
    "share_id",
    "spm",
    "__twitter_impression",
)
_TRACK_RE = "^(" + "|".join(TRACKING_PARAMS) + ")(=|$)"
_URL_RE = r"^([A-Za-z][A-Za-z0-9+.\-]*)://([^/?#]*)([^?#]*)(\?[^#]*)?"


def canonical_url_sql(col: str) -> str:
    """SQL expression: canonical form of URL column ``col`` (NULL for a non-URL)."""
    scheme = f"lower(regexp_extract({col}, '{_URL_RE}', 1))"
    host = f"regexp_replace(lower(regexp_extract({col}, '{_URL_RE}', 2)), '(:80|:443)$', '')"
    path = f"regexp_extract({col}, '{_URL_RE}', 3)"
    query = (
        f"array_to_string(list_filter(string_split(ltrim(regexp_extract({col}, '{_URL_RE}', 4), '?'), '&'), "
        f"lambda p: p <> '' AND NOT regexp_matches(lower(p), '{_TRACK_RE}')), '&')"
    )
    return (
        f"CASE WHEN regexp_matches({col}, '{_URL_RE}') THEN "
        f"{scheme} || '://' || {host} || {path} || "
        f"CASE WHEN {query} = '' THEN '' ELSE '?' || {query} END END"
    )


def host_sql(col: str) -> str:
    """SQL expression: the lower-case host of URL column ``col``, without port or ``www.``."""
    return (
        f"nullif(regexp_replace(regexp_replace(lower(regexp_extract({col}, '{_URL_RE}', 2)), "
        f"':[0-9]+$', ''), '^www\\.', ''), '')"
    )


@lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # suffix_list_urls=() : the bundled snapshot only, nothing fetched; no cache dir written.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(host: str) -> str:
    ext = _extractor()(host)
    if ext.suffix and ext.domain:
        return f"{ext.domain}.{ext.suffix}"
    return host  # an IP address, localhost, or an unknown suffix: the host itself


def domain_table(con: duckdb.DuckDBPyConnection, hosts_sql: str) -> pa.Table:
    """(host, domain) for the distinct hosts returned by ``hosts_sql``; Python runs once per host."""
    hosts = (
        con.sql(f"SELECT DISTINCT host FROM ({hosts_sql}) WHERE host IS NOT NULL").to_arrow_table()["host"].to_pylist()
    )
    return pa.table(
        {"host": pa.array(hosts, pa.string()), "domain": pa.array([registered_domain(h) for h in hosts], pa.string())}
    )

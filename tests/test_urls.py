"""Canonical URLs and registered domains (enrich/urls.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from swarmscope.enrich.urls import canonical_url_sql, domain_table, host_sql, registered_domain
from swarmscope.store import connect


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("https://www.Example.COM/Story?utm_source=tw&id=7#top", "https://www.example.com/Story?id=7"),
        ("HTTP://news.example.org:80/a/b?fbclid=XYZ", "http://news.example.org/a/b"),
        ("https://example.com/p?a=1&gclid=2&b=3&utm_medium=x", "https://example.com/p?a=1&b=3"),
        ("https://youtu.be/abc?si=share123", "https://youtu.be/abc"),
        ("https://example.com/?", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("not a url", None),
    ],
)
def test_canonical_url(raw, canonical):
    con = connect()
    con.register("u", pa.table({"u": [raw]}))
    assert con.execute(f"SELECT {canonical_url_sql('u')} FROM u").fetchall()[0][0] == canonical


def test_host_and_registered_domain():
    con = connect()
    con.register(
        "t",
        pa.table({"u": ["https://www.bbc.co.uk/news", "http://Sub.Example.com:8080/x", "https://127.0.0.1/a", None]}),
    )
    hosts = [r[0] for r in con.execute(f"SELECT {host_sql('u')} FROM t").fetchall()]
    assert hosts == ["bbc.co.uk", "sub.example.com", "127.0.0.1", None]
    assert registered_domain("news.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("a.b.example.com") == "example.com"
    assert registered_domain("127.0.0.1") == "127.0.0.1"
    con.execute(f"CREATE TABLE h AS SELECT {host_sql('u')} AS host FROM t")
    d = dict(zip(*domain_table(con, "SELECT host FROM h").to_pydict().values()))
    assert d == {"bbc.co.uk": "bbc.co.uk", "sub.example.com": "example.com", "127.0.0.1": "127.0.0.1"}

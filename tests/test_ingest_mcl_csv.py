"""Meta Content Library CSV: a reshare (shared_post_id) is a repost, or a quote where it adds text."""

from __future__ import annotations

import datetime as dt

from .conftest import FIXTURES
from .test_ingest_tiktok import rows, run

RESHARES = FIXTURES / "crowdtangle_csv" / "mcl_reshares.csv"


def test_reshares_field_by_field(case_path):
    [res] = run(case_path, [RESHARES], "crowdtangle_csv")
    assert (res.records, res.inserted, res.quarantined) == (3, 3, 0)
    p = rows(case_path, "posts", "post_id")
    first = p["1001"]
    assert (first["platform"], first["account_id"], first["kind"], first["parent_post_id"]) == (
        "facebook",
        "501",
        "post",
        None,
    )
    assert first["created_at"] == dt.datetime(2024, 5, 1, 10, 0)
    # statistics.reaction_count, not the like_count beside it; share_count; views
    assert (first["like_count"], first["reply_count"], first["repost_count"], first["view_count"]) == (5, 2, 4, 100)
    assert first["urls"] == ["https://a.example/x"]  # the text's link and link_attachment.link, kept once
    assert (p["1002"]["kind"], p["1002"]["parent_post_id"], p["1002"]["text"]) == ("repost", "1001", None)
    assert (p["1003"]["kind"], p["1003"]["parent_post_id"], p["1003"]["account_id"]) == ("quote", "1001", "503")
    acc = rows(case_path, "accounts", "account_id")
    assert (acc["501"]["handle"], acc["501"]["display_name"]) == ("pageone", "Page One")

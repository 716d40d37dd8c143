"""Copy evidence: how many of the members' own posts repeat a text another member posted.

A text is shared when two or more member accounts posted it (the same
normalised-text fingerprint, or one near-duplicate cluster). Reposts and
forwards are not the member's own text and are left out.
"""

from __future__ import annotations

import numpy as np

from ..duck import registered
from ..findings import SignalLog
from .params import CampaignParams
from .view import CaseView, Evidence, Members

COPY_OBJECTS = "('text_fingerprint', 'near_dup_cluster')"
MESSAGE_POSTS = 20  # a message's own posts listed (earliest first); its counts stay exact
EVIDENCE_POSTS = 2000  # copied post ids read for the evidence list (the signal keeps the first 200)
TOP_MESSAGES = 10


def copy_figures(view: CaseView, members: Members) -> tuple[float, dict]:
    """The share of the members' own posts that are copies, and the most repeated messages."""
    # The members' posts are in memory already (members.posts): reading them from the case scanned the
    # posts table and left its text blocks cached (+1.1 GiB and 2.7 s for 151 accounts at 10M posts).
    mine = members.posts.select(["platform", "post_id", "account_id", "kind", "text", "created_at"])
    with registered(view.con, _mine=mine) as con:
        rows = con.sql(
            f"""WITH own AS (
                   SELECT platform, post_id, account_id FROM _mine WHERE kind NOT IN ('repost', 'forward')),
               obj AS (
                   SELECT a.object_type, a.object_id, o.platform, o.post_id, o.account_id
                   FROM actions a JOIN own o USING (platform, post_id)
                   WHERE a.object_type IN {COPY_OBJECTS}),
               shared AS (
                   SELECT object_type, object_id FROM obj GROUP BY ALL HAVING count(DISTINCT account_id) >= 2)
               SELECT (SELECT count(*) FROM own) AS original_posts,
                      (SELECT count(DISTINCT (platform, post_id)) FROM obj JOIN shared USING (object_type, object_id))
                          AS copied,
                      (SELECT list([platform, post_id] ORDER BY platform, post_id) FROM (
                          SELECT DISTINCT platform, post_id FROM obj JOIN shared USING (object_type, object_id)
                          ORDER BY platform, post_id LIMIT {EVIDENCE_POSTS})) AS ids
            """
        ).fetchall()[0]
        top = (
            con.sql(
                # the top messages counted first, their texts and post lists gathered for those alone: the
                # lists of every shared object took most of this step on IRA's campaigns (same rows)
                f"""WITH own AS (
                   SELECT platform, post_id, account_id, text, created_at FROM _mine
                   WHERE kind NOT IN ('repost', 'forward')),
               obj AS (
                   SELECT a.object_type, a.object_id, o.platform, o.post_id, o.account_id, o.text, o.created_at
                   FROM actions a JOIN own o USING (platform, post_id)
                   WHERE a.object_type IN {COPY_OBJECTS}),
               top AS (
                   SELECT object_type, object_id, count(DISTINCT account_id) AS accounts, count(*) AS posts
                   FROM obj GROUP BY ALL HAVING count(DISTINCT account_id) >= 2
                   ORDER BY accounts DESC, posts DESC, object_type, object_id LIMIT {TOP_MESSAGES})
               SELECT t.object_type, t.object_id, any_value(t.accounts) AS accounts, any_value(t.posts) AS posts,
                      arg_min(o.text, (o.created_at, o.platform, o.post_id)) AS text,
                      list(o.post_id ORDER BY o.post_id)[1:20] AS post_ids,
                      list([o.platform, o.post_id] ORDER BY o.created_at, o.platform, o.post_id)[1:{MESSAGE_POSTS}]
                          AS refs,
                      min(o.created_at) AS first_at, max(o.created_at) AS last_at
               FROM top t JOIN obj o USING (object_type, object_id)
               GROUP BY t.object_type, t.object_id
               ORDER BY accounts DESC, posts DESC, t.object_type, t.object_id"""
            )
            .to_arrow_table()
            .to_pylist()
        )
    original, copied, ids = rows
    share = copied / original if original else 0.0
    messages = [
        {
            "id": t["object_id"],
            "object_type": t["object_type"],
            "text": t["text"],
            "posts": t["posts"],
            "accounts": t["accounts"],
            "first_at": t.pop("first_at"),
            "last_at": t.pop("last_at"),
            "post_ids": [list(r) for r in t.pop("refs")],
        }
        for t in top
    ]
    return share, {
        "original_posts": int(original),
        "copied_posts": int(copied),
        "share": round(share, 4),
        "top_messages": top,
        "post_ids": [tuple(x) for x in (ids or [])],
        "messages": messages,
    }


def copies(view: CaseView, members: Members, log: SignalLog, params: CampaignParams) -> tuple[list[dict], Evidence]:
    """The copypasta part (0 up to ``copy_floor``, 1 from ``1 - copy_floor``), its signal, and the messages.

    ``messages``: the members' most repeated texts, each with its own counts
    and its own posts (only the members' posts of that text). The report,
    the exports and the workbench all show this one list.
    """
    ev = Evidence()
    share, figs = copy_figures(view, members)
    messages = figs.pop("messages")
    floor = params.copy_floor
    ev.parts["copypasta"] = float(np.clip((share - floor) / max(1.0 - 2 * floor, 1e-9), 0.0, 1.0))
    if not figs["copied_posts"]:
        return messages, ev
    if figs["top_messages"]:
        figs["text"] = figs["top_messages"][0]["text"]
        figs["cluster_id"] = figs["top_messages"][0]["object_id"]
    sid = log.add(
        "copypasta",
        f"{figs['copied_posts']:,} of {figs['original_posts']:,} original posts repeat a text another "
        f"member posted ({share:.0%})",
        figs,
        "same normalised text (exact fingerprint) or near-duplicate cluster posted by >= 2 member accounts",
        members.accounts,
        figs.pop("post_ids"),
    )
    top_accounts = figs["top_messages"][0]["accounts"] if figs["top_messages"] else 0
    ev.cite(
        sid,
        f"{share:.0%} of their own posts are copies of texts other members posted; the most repeated "
        f"message was posted by {top_accounts} accounts.",
    )
    return [m | {"signal": sid} for m in messages], ev

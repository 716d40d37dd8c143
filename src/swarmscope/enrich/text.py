"""Text normalisation for matching copies, script-agnostic and columnar (pyarrow compute).

``normalise`` is the one definition of "the same text" used by the exact
fingerprint (``text_fingerprint`` actions) and by near-duplicate detection:
Unicode NFKC, lower-cased (Unicode case mapping), URLs and @mentions removed
(mentions matched with Unicode letters, not ASCII only), whitespace folded.
Hashtags stay, as words.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

URL_RE = r"(?i)\b(?:https?://|www\.)\S+"
MENTION_RE = r"(?:^|[^\pL\pN_])@[\pL\pN_]+(?:\.[\pL\pN_]+)*"
SPACE_RE = r"\s+"


def normalise(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Normalised text for matching; NULL stays NULL."""
    t = pc.utf8_normalize(texts, form="NFKC")
    t = pc.utf8_lower(t)
    t = pc.replace_substring(t, "ß", "ss")  # case-fold, where lower-casing differs
    t = pc.replace_substring_regex(t, URL_RE, " ")
    t = pc.replace_substring_regex(t, MENTION_RE, " ")
    t = pc.replace_substring_regex(t, r"^rt\s*:", " ")  # retweet prefix left after removing the mention
    t = pc.replace_substring_regex(t, SPACE_RE, " ")
    return pc.utf8_trim_whitespace(t)

"""Impersonation: accounts that imitate a watchlisted entity but are not it.

The watchlist holds genuine entities (name, handle, platform). An account is
never flagged when its handle is exactly a watchlisted handle on that
platform (case-insensitive): that is the genuine account. Otherwise, in
order of strength:

1. ``handle-homoglyph``: the handle's confusable skeleton equals the
   entity's (``BBCNews`` vs ``BBСNews`` with a Cyrillic С, ``rnfa`` vs ``mfa``,
   ``0``/``O``, ``1``/``l``/``I``);
2. ``handle-affix``: the handle is the entity's with added words or digits
   (``BBCNewsOfficial``, ``the_real_bbcnews``, ``bbcnews24``);
3. ``handle-edit``: the skeletons are within ``max_edits`` edits
   (Levenshtein, rapidfuzz), for handles long enough that one edit is not
   just another name;
4. ``display-name``: the display name's skeleton, as is or with affixes
   removed, equals the entity's name, or is within one edit of a long one.

The skeleton is Unicode TR39's, towards Latin: the confusables table of
enrich/text.py (from TR39's confusables.txt through ``disarm``: Cyrillic,
Greek, Armenian and Cherokee look-alikes, full-width and mathematical
letters, invisible characters dropped), TR39's identifier classes (``I``,
``l``, ``|``, ``1``; ``O``, ``0``), plus leetspeak (``3``, ``5``, ``$``,
``@``) and ``rn``/``m``, ``vv``/``w``, ``cl``/``d``; lower case, letters
and digits only. Each account is matched to its
strongest, closest entity; the evidence says which rule and what distance.
Name-only matches are weaker: people share names with officials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

from ..enrich.text import CONFUSABLE_SCRIPTS, latin_translation, script_name

# Handles fold with the Latin table of enrich/text.py (Unicode TR39 confusables: Cyrillic,
# Greek, Armenian, Cherokee look-alikes; full-width and mathematical letters; accents, zero-width
# and other invisible characters dropped), plus TR39's identifier classes that prose keeps
# apart: I, l, | and 1 are one letter, O and 0 another (``disarm.skeleton_key`` with
# digit_policy "tr39"). Not TR39, kept from practice: leetspeak digits and signs, and the
# letter pairs that read as one letter in a handle (TR39's skeleton of m is rn, but it never
# folds rn to m).
_LEET = {"3": "e", "5": "s", "$": "s", "@": "a"}
_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"))


@lru_cache(maxsize=1)
def _handle_table() -> dict[int, str | None]:
    from disarm import normalize_confusables, skeleton_key

    table = dict(latin_translation())  # keyed on lower case, as prose is: Greek η is n
    # a handle keeps its case: an upper-case look-alike folds as what it looks like (Greek Η is H)
    for cp in list(table):
        ch = chr(cp)
        if ch != ch.lower() and script_name(ch) in CONFUSABLE_SCRIPTS:
            to = normalize_confusables(ch, target_script="latin")
            if len(to) == 1 and to.isascii() and to.isalpha():
                table[cp] = to.lower()
    for ch, to in _LEET.items():
        table[ord(ch)] = to
    # every character the Latin table sends to i, l or o, and ASCII I, |, 1, 0: TR39's classes for identifiers
    candidates = {chr(cp) for cp, to in table.items() if to in ("i", "l", "o")} | set("Il|10Oo")
    for ch in sorted(candidates):
        key = skeleton_key(ch, digit_policy="tr39")
        if key in ("l", "o"):
            table[ord(ch)] = key
    return table


_NON_ALNUM = re.compile(r"[^0-9a-z]+")

# Words impostors add around a genuine name.
AFFIXES = (
    "official",
    "offical",
    "real",
    "the",
    "news",
    "tv",
    "hq",
    "live",
    "daily",
    "media",
    "updates",
    "update",
    "breaking",
    "online",
    "press",
    "info",
    "channel",
    "fan",
    "fans",
    "team",
    "int",
    "intl",
    "global",
    "world",
    "latest",
    "now",
    "alerts",
    "alert",
)
_AFFIX = "|".join(sorted(AFFIXES, key=len, reverse=True))
_PREFIX_RE = re.compile(rf"^(?:{_AFFIX}|[0-9]+)+")
_SUFFIX_RE = re.compile(rf"(?:{_AFFIX}|[0-9]+)+$")
_PREFIX_ONE = re.compile(rf"^(?:{_AFFIX}|[0-9]+)")
_SUFFIX_ONE = re.compile(rf"(?:{_AFFIX}|[0-9]+)$")

IMPERSONATION = pa.schema(
    [
        pa.field("platform", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("handle", pa.string()),
        pa.field("display_name", pa.string()),
        pa.field("entity_name", pa.string()),
        pa.field("entity_handle", pa.string()),
        pa.field("match", pa.string()),
        pa.field("distance", pa.int64()),
        pa.field("account_skeleton", pa.string()),
        pa.field("entity_skeleton", pa.string()),
        pa.field("test", pa.string()),
    ]
)
MATCHES = ("handle-homoglyph", "handle-affix", "handle-edit", "display-name")
_BLOCK = 50_000
_NONE = 10**9


@dataclass(frozen=True)
class ImpersonationParams:
    # One edit between handles of 6+ characters, two from 10: shorter
    # handles are one letter away from many genuine names.
    min_edit_chars: int = 6
    two_edit_chars: int = 10
    # A core (affixes removed) shorter than 4 characters ("bbc" aside, which
    # the full skeleton still matches) collides with unrelated handles.
    min_core_chars: int = 4
    min_name_chars: int = 5
    name_edit_chars: int = 10
    use_display_names: bool = True


def skeleton(s: str | None) -> str:
    """Confusable skeleton: Latin look-alikes (TR39) mapped, lower case, letters and digits only."""
    if not s:
        return ""
    s = s.translate(_handle_table())
    s = _NON_ALNUM.sub("", s.lower())
    for a, b in _MULTI:
        s = s.replace(a, b)
    return s


def core(s: str | None) -> str:
    """Skeleton of ``s`` without leading/trailing affix words and digit runs."""
    if not s:
        return ""
    plain = _NON_ALNUM.sub("", s.translate(latin_translation()).lower())
    stripped = _SUFFIX_RE.sub("", _PREFIX_RE.sub("", plain))
    return skeleton(stripped)


def stripped_forms(s: str | None, depth: int = 4) -> set[str]:
    """Skeletons of ``s`` with 1..``depth`` affix words or digit runs removed from either end."""
    if not s:
        return set()
    plain = _NON_ALNUM.sub("", s.translate(latin_translation()).lower())
    seen, frontier = set(), {plain}
    for _ in range(depth):
        nxt = set()
        for f in frontier:
            for rx in (_PREFIX_ONE, _SUFFIX_ONE):
                m = rx.search(f)
                if m and m.end() - m.start() < len(f):
                    nxt.add(f[: m.start()] + f[m.end() :])
        nxt -= seen
        seen |= nxt
        frontier = nxt
    return {skeleton(f) for f in seen} - {""}


def impersonators(
    accounts: pa.Table, watchlist: pa.Table, params: ImpersonationParams = ImpersonationParams()
) -> pa.Table:
    """Accounts imitating a watchlist entity, with the entity, the rule and the distance.

    ``watchlist`` columns: name, handle, platform (empty platform = any platform).
    """
    wl = watchlist.to_pylist()
    acc = accounts.select(["platform", "account_id", "handle", "display_name"]).to_pylist()
    if not wl or not acc:
        return IMPERSONATION.empty_table()
    wl_handle = [(w.get("handle") or "").lstrip("@") for w in wl]
    wl_platform = [(w.get("platform") or "").strip().lower() for w in wl]
    wl_skel = [skeleton(h) for h in wl_handle]
    wl_core = [core(h) for h in wl_handle]
    wl_name = [skeleton(w.get("name")) for w in wl]
    genuine = {(p, h.lower()) for p, h in zip(wl_platform, wl_handle) if h}

    handles = [(a["handle"] or "").lstrip("@") for a in acc]
    a_skel = [skeleton(h) for h in handles]
    names = [(a["display_name"] or "") if params.use_display_names else "" for a in acc]
    a_name = [skeleton(n) for n in names]

    skel_len = np.array([len(x) for x in wl_skel])
    name_len = np.array([len(x) for x in wl_name])
    max_edits = np.where(skel_len >= params.two_edit_chars, 2, np.where(skel_len >= params.min_edit_chars, 1, 0))
    wl_plat = np.array(wl_platform)
    test = (
        "never the exact watchlisted handle on its platform; homoglyph skeleton equal > affixes/digits "
        f"added > Levenshtein <= 1 ({params.min_edit_chars}+ chars) or 2 ({params.two_edit_chars}+) > "
        f"display name = entity name ({params.min_name_chars}+ chars, 1 edit from {params.name_edit_chars}+)"
    )
    by_skel: dict[str, list[int]] = {}
    by_core: dict[str, list[int]] = {}
    for j, (sk_j, co_j) in enumerate(zip(wl_skel, wl_core)):
        if sk_j:
            by_skel.setdefault(sk_j, []).append(j)
        if co_j and co_j != sk_j:
            by_core.setdefault(co_j, []).append(j)
    by_name: dict[str, list[int]] = {}
    for j, n in enumerate(wl_name):
        if len(n) >= params.min_name_chars:
            by_name.setdefault(n, []).append(j)
    rows = []
    for lo in range(0, len(acc), _BLOCK):  # blocks of accounts x the whole watchlist, in C (rapidfuzz)
        hi = min(lo + _BLOCK, len(acc))
        sk, nm = a_skel[lo:hi], a_name[lo:hi]
        has_sk = np.array([bool(x) for x in sk])[:, None]
        has_nm = np.array([bool(x) for x in nm])[:, None]
        d_h = cdist(sk, wl_skel, scorer=Levenshtein.distance, score_cutoff=2, workers=-1)
        affix = np.zeros((hi - lo, len(wl)), bool)
        for k, h in enumerate(handles[lo:hi]):  # per account, a few dictionary look-ups
            for f in stripped_forms(h):
                for j in by_skel.get(f, ()):
                    affix[k, j] = True
                if len(f) >= params.min_core_chars:
                    for j in by_core.get(f, ()):
                        affix[k, j] = True
        d_n = cdist(nm, wl_name, scorer=Levenshtein.distance, score_cutoff=1, workers=-1)
        affix_len = np.abs(np.array([len(a) for a in sk])[:, None] - skel_len[None, :])
        name_exact = np.zeros((hi - lo, len(wl)), bool)
        for k, n in enumerate(names[lo:hi]):
            for f in stripped_forms(n) | {nm[k]}:
                for j in by_name.get(f, ()):
                    name_exact[k, j] = True
        homoglyph = has_sk & (d_h == 0)
        edit = (d_h > 0) & (d_h <= max_edits[None, :])
        name = (
            has_nm
            & (name_len >= params.min_name_chars)[None, :]
            & (name_exact | ((d_n <= 1) & (name_len >= params.name_edit_chars)[None, :]))
        )
        score = np.where(
            homoglyph,
            0,
            np.where(affix, 1000 + affix_len, np.where(edit, 2000 + d_h, np.where(name, 3000 + d_n, _NONE))),
        )
        plat = np.array([(a["platform"] or "").lower() for a in acc[lo:hi]])
        score = np.where((wl_plat[None, :] == "") | (wl_plat[None, :] == plat[:, None]), score, _NONE)
        own = np.array([(p, h.lower()) in genuine or ("", h.lower()) in genuine for p, h in zip(plat, handles[lo:hi])])
        score[own] = _NONE
        best = score.argmin(axis=1)
        best_score = score[np.arange(hi - lo), best]
        for k in np.flatnonzero(best_score < _NONE):  # matches only: few
            i, j, sc = lo + int(k), int(best[k]), int(best_score[k])
            rule, dist = sc // 1000, sc % 1000
            a = acc[i]
            rows.append(
                {
                    "platform": a["platform"],
                    "account_id": a["account_id"],
                    "handle": a["handle"],
                    "display_name": a["display_name"],
                    "entity_name": wl[j].get("name"),
                    "entity_handle": wl_handle[j],
                    "match": MATCHES[rule],
                    "distance": int(dist),
                    "account_skeleton": a_name[i] if rule == 3 else a_skel[i],
                    "entity_skeleton": wl_name[j] if rule == 3 else wl_skel[j],
                    "test": test,
                }
            )
    return pa.Table.from_pylist(rows, schema=IMPERSONATION)

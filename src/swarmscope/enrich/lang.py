"""Offline language identification (lingua) for posts whose platform gave none.

Each distinct text is detected once, on its first ``MAX_CHARS`` characters
(speed; the opening of a post is enough for its language). Low-accuracy mode
over all of lingua's languages: no language is favoured. A language is kept
only when lingua gives it at least ``MIN_CONFIDENCE``; below that the post
stays undecided (NULL): for counts per language an unknown is better than a
wrong language ("On episode a traffic day" came out Tagalog at 0.56).
"""

from __future__ import annotations

from functools import lru_cache

MAX_CHARS = 200
MIN_CONFIDENCE = 0.7


@lru_cache(maxsize=1)
def _detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def detect_languages(texts: list[str]) -> list[str | None]:
    """ISO 639-1 codes (lower case) for ``texts``, one per text, None where undecided."""
    if not texts:
        return []
    ranked = _detector().compute_language_confidence_values_in_parallel([t[:MAX_CHARS] for t in texts])
    return [r[0].language.iso_code_639_1.name.lower() if r and r[0].value >= MIN_CONFIDENCE else None for r in ranked]

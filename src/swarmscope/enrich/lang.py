"""Offline language identification (lingua) for posts whose platform gave none.

Each distinct text is detected once, on its first ``MAX_CHARS`` characters
(speed; the opening of a post is enough for its language). Low-accuracy mode
over all of lingua's languages: no language is favoured. Texts lingua cannot
decide stay NULL.
"""

from __future__ import annotations

from functools import lru_cache

MAX_CHARS = 200


@lru_cache(maxsize=1)
def _detector():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def detect_languages(texts: list[str]) -> list[str | None]:
    """ISO 639-1 codes (lower case) for ``texts``, one per text, None where undecided."""
    if not texts:
        return []
    found = _detector().detect_languages_in_parallel_of([t[:MAX_CHARS] for t in texts])
    return [lang.iso_code_639_1.name.lower() if lang is not None else None for lang in found]

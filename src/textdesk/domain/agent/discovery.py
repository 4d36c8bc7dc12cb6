"""Finding the topic a free-text message is about.

Each topic is scored against the message by its keywords, example phrases and
title, ignoring filler words.  Two measures are combined, taking the better:
``token_set_ratio`` (a candidate whose words are all in the message, or the other
way round, scores 100 whatever else is said) and a word-by-word typo tolerance (every
candidate word finds a close word in the message: "serail numbr" still finds "serial
number").  A topic wins when it reaches the threshold and leads the runner-up by the
margin; otherwise the close ones are offered as "Did you mean".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import fuzz

from textdesk.domain.topics.schema import Topic

__all__ = ["rank_topics", "score_topic"]

# fmt: off
_FILLER = frozenset({
    "a", "an", "the", "i", "im", "me", "my", "mine", "you", "your", "we", "our", "is",
    "are", "am", "was", "be", "been", "it", "its", "this", "that", "to", "of", "in",
    "on", "at", "for", "with", "and", "or", "but", "not", "no", "do", "does", "did",
    "dont", "cant", "can", "could", "would", "should", "will", "please", "pls", "thanks",
    "thank", "need", "want", "help", "have", "has", "get", "got", "how", "what", "where",
    "when", "why", "which", "who", "there", "here", "so", "just", "some", "any", "about",
    "s", "t", "d", "ll", "m", "ve", "re",
})
# fmt: on
_TYPO_MIN_LENGTH = 4  # shorter words must match exactly ("pc" is not "pcs")


@lru_cache(maxsize=2048)
def _words(text: str) -> tuple[str, ...]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return tuple(w for w in kept.split() if w not in _FILLER)


def _word_by_word(candidate: tuple[str, ...], words: tuple[str, ...]) -> float:
    worst = 100.0
    for c in candidate:
        if c in words:
            continue
        best = max((fuzz.ratio(c, w) for w in words), default=0.0)
        worst = min(worst, best if len(c) >= _TYPO_MIN_LENGTH else 0.0)
    return worst


def score_topic(text: str, topic: Topic) -> float:
    """How well ``text`` matches ``topic`` (0-100)."""
    words = _words(text)
    if not words:
        return 0.0
    joined = " ".join(words)
    best = 0.0
    for candidate in (*topic.keywords, *topic.phrases, topic.title):
        cand = _words(candidate)
        if not cand:
            continue
        score = max(fuzz.token_set_ratio(joined, " ".join(cand)), _word_by_word(cand, words))
        best = max(best, score)
    return best


def rank_topics(
    text: str, topics: Sequence[Topic], *, threshold: float, margin: float
) -> list[Topic]:
    """One clear winner, several close candidates (best first), or none."""
    scored = [(score_topic(text, t), t) for t in topics]
    scored = [(s, t) for s, t in scored if s >= threshold]
    if not scored:
        return []
    scored.sort(key=lambda pair: -pair[0])
    top = scored[0][0]
    return [t for s, t in scored if s > top - margin]

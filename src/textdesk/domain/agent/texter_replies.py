"""Reading what texters reply: menu choices, yes/no answers and global commands.

People answer a numbered menu with "2", "#2", "two", "2nd", the label, part of it or a
misspelling of it; these functions accept all of that and say how they understood it,
so the agent can confirm or ask again instead of guessing.  Pure: no I/O.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

__all__ = [
    "ChoiceMatch",
    "ChoiceReason",
    "Option",
    "normalize_command",
    "page_count",
    "parse_choice",
    "parse_yes_no",
    "render_choices",
]

ChoiceReason = Literal["number", "word", "label", "fuzzy", "more", "ambiguous", "none"]

# Fuzzy matching: a candidate must score this much (0-100) and the best must lead the
# runner-up by the margin; otherwise the agent should ask rather than pick.
FUZZY_CUTOFF = 78.0
FUZZY_MARGIN = 10.0
_MIN_PARTIAL = 3  # shorter fragments ("p", "ok") say too little to match on


@dataclass(frozen=True)
class Option:
    """One menu entry: ``value`` is what the flow stores, ``label`` what the texter sees."""

    value: str
    label: str


@dataclass(frozen=True)
class ChoiceMatch:
    """How a reply to a menu was understood.

    ``matched`` is set for reasons number/word/label/fuzzy; ``ambiguous`` holds the
    candidates when several fit equally well; ``more`` means show ``next_page``.
    """

    reason: ChoiceReason
    matched: Option | None = None
    ambiguous: tuple[Option, ...] = ()
    more: bool = False
    next_page: int = 0


def page_count(n: int, page_size: int) -> int:
    """Return how many pages ``n`` options take; an empty menu is still one page."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    return max(1, math.ceil(n / page_size))


def render_choices(
    prompt: str,
    options: Sequence[Option],
    page: int = 0,
    page_size: int = 9,
    more_word: str = "MORE",
) -> str:
    """Render the prompt and one page of numbered options.

    Numbers run on across pages (page 1 of 9-per-page starts at 10) so any number a
    texter saw stays valid; a last line invites ``more_word`` while options remain.
    """
    if not 0 <= page < page_count(len(options), page_size):
        raise ValueError(f"page {page} out of range")
    start = page * page_size
    lines = [prompt] if prompt else []
    for number, option in enumerate(options[start : start + page_size], start=start + 1):
        lines.append(f"{number}. {option.label}")
    if start + page_size < len(options):
        lines.append(f"Reply {more_word} for more options.")
    return "\n".join(lines)


def _normalize(text: str) -> str:
    """Casefold, drop accents, turn punctuation and symbols into spaces, collapse spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = (c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join("".join(kept).split())


# fmt: off
_NUMBER_WORDS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty",
)
_ORDINAL_WORDS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)
# fmt: on
_WORD_NUMBERS = {w: i for i, w in enumerate(_NUMBER_WORDS, 1)} | {
    w: i for i, w in enumerate(_ORDINAL_WORDS, 1)
}
_NUMERIC_ORDINAL_RE = re.compile(r"(\d+)(?:st|nd|rd|th)")
_NUMBER_LEAD_INS = frozenset({"option", "number", "no", "num", "choice", "opt"})


def _spelled_number(norm: str) -> int | None:
    """Read "two", "second", "2nd", and those after "option"/"number"; digits too."""
    words = norm.split()
    if len(words) == 2 and words[0] in _NUMBER_LEAD_INS:
        words = words[1:]
    if len(words) != 1:
        return None
    word = words[0]
    if word.isdigit():
        return int(word)
    if ordinal := _NUMERIC_ORDINAL_RE.fullmatch(word):
        return int(ordinal.group(1))
    return _WORD_NUMBERS.get(word)


def _fuzzy_score(reply: str, name: str) -> float:
    """Score a misspelt reply against a whole name or a run of as many of its words."""
    best = max(fuzz.ratio(reply, name), fuzz.token_sort_ratio(reply, name))
    words, width = name.split(), len(reply.split())
    for i in range(len(words) - width + 1):
        best = max(best, fuzz.ratio(reply, " ".join(words[i : i + width])))
    return best


def _decide(found: list[Option], reason: ChoiceReason, page: int) -> ChoiceMatch | None:
    if len(found) == 1:
        return ChoiceMatch(reason, matched=found[0], next_page=page)
    if found:
        return ChoiceMatch("ambiguous", ambiguous=tuple(found), next_page=page)
    return None


def parse_choice(
    reply: str,
    options: Sequence[Option],
    page: int = 0,
    page_size: int = 9,
    more_word: str = "MORE",
) -> ChoiceMatch:
    """Work out which option a reply picks, from the most to the least certain reading.

    In order: the number of any option (not only the page shown), ``more_word``, the
    exact label or value, a number word or ordinal, a label prefix, whole label words,
    a label-word prefix, then a clear fuzzy winner.  Several equally good candidates
    give ``ambiguous``; anything else gives ``none``.
    """
    norm = _normalize(reply)
    none = ChoiceMatch("none", next_page=page)
    if not norm or not options:
        return none

    def nth(number: int, reason: ChoiceReason) -> ChoiceMatch:
        if 1 <= number <= len(options):
            return ChoiceMatch(reason, matched=options[number - 1], next_page=page)
        return none

    if norm.isdigit():
        return nth(int(norm), "number")
    if norm == _normalize(more_word):
        following = page + 1 if page + 1 < page_count(len(options), page_size) else 0
        return ChoiceMatch("more", more=True, next_page=following)

    names = [{_normalize(o.label), _normalize(o.value)} - {""} for o in options]

    def where(test: Callable[[str], bool]) -> list[Option]:
        return [o for o, ns in zip(options, names, strict=True) if any(test(n) for n in ns)]

    if found := _decide(where(lambda n: n == norm), "label", page):
        return found
    if (number := _spelled_number(norm)) is not None:
        return nth(number, "word")
    if len(norm) < _MIN_PARTIAL:
        return none
    for test in (
        lambda n: n.startswith(norm),
        lambda n: f" {norm} " in f" {n} ",
        lambda n: f" {norm}" in f" {n}",
    ):
        if found := _decide(where(test), "label", page):
            return found

    scores = [max(_fuzzy_score(norm, n) for n in ns) if ns else 0.0 for ns in names]
    best = max(scores)
    if best < FUZZY_CUTOFF:
        return none
    close = [o for o, s in zip(options, scores, strict=True) if s > best - FUZZY_MARGIN]
    return _decide(close, "fuzzy", page) or none


# fmt: off
_YES = frozenset({
    "y", "yes", "yeah", "yea", "yep", "yup", "ya", "sure", "ok", "okay", "k", "correct",
    "right", "affirmative", "true", "1", "absolutely", "definitely", "certainly",
    "of course", "👍",
})
_NO = frozenset({
    "n", "no", "nope", "nah", "negative", "false", "2", "never", "no thanks", "no way", "👎",
})
# Words that may trail a yes or no without changing it ("yes please", "no thank you").
_SOFTENERS = frozenset({
    "please", "pls", "plz", "thanks", "thank", "you", "thx", "ty", "sir", "maam",
    "it", "is", "i", "do",
})
# fmt: on
# Skin tones and the emoji presentation selector ride along on 👍 and 👎.
_EMOJI_MODIFIERS_RE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def _answer_words(reply: str) -> list[str]:
    kept = _EMOJI_MODIFIERS_RE.sub("", reply.casefold())
    return "".join(c if c.isalnum() or c in "👍👎" else " " for c in kept).split()


def parse_yes_no(reply: str) -> bool | None:
    """Read a yes/no answer: True, False, or None when the reply is neither.

    "1" and "2" count, so the question can also be shown as "1. Yes / 2. No".
    """
    words = _answer_words(reply)
    for size in (len(words), 1):
        head, tail = " ".join(words[:size]), words[size:]
        if not head or not all(w in _SOFTENERS for w in tail):
            continue
        if head in _YES:
            return True
        if head in _NO:
            return False
    return None


def _is_edge_noise(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def normalize_command(text: str) -> str:
    """Normalise a whole message for matching global commands such as STOP or MENU.

    Casefolded, surrounding punctuation and whitespace removed, inner whitespace
    collapsed: ``" Stop. "`` becomes ``"stop"``.
    """
    folded = " ".join(text.casefold().split())
    start, end = 0, len(folded)
    while start < end and _is_edge_noise(folded[start]):
        start += 1
    while end > start and _is_edge_noise(folded[end - 1]):
        end -= 1
    return folded[start:end]

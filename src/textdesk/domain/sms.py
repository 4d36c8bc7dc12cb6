"""What a text costs on the wire, and how to shape outgoing text for SMS.

Pure functions: which addresses take an SMS, GSM-7/UCS-2 encoding and segment
counting, typographic clean-up, Markdown flattening (authors write topics in
Markdown; phones show plain text) and trimming a text to a segment budget.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "E164",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SmsCost",
    "fit_segments",
    "flatten_markdown",
    "gsm_safe",
    "is_e164",
    "sms_cost",
    "ucs2_culprits",
]

# What Twilio's Messages API takes as ``To`` for an SMS: E.164, at most 15 digits.
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

# GSM 03.38 default alphabet, in code order (0x1B, the escape to the extension table,
# is left out: it is never a character of the text itself).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension-table characters travel as ESC + code, so each costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_GSM_SINGLE_LIMIT = 160
_GSM_PART = 153  # 7 septets of each part go to the concatenation header
_UCS2_SINGLE_LIMIT = 70
_UCS2_PART = 67


@dataclass(frozen=True)
class SmsCost:
    """Encoding a text needs, how many segments it is billed as, and its length in units.

    ``length`` is in septets for GSM-7 (extension characters count 2) and in UTF-16
    code units for UCS-2 (characters outside the BMP count 2).
    """

    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    length: int


def is_e164(address: str) -> bool:
    """Whether ``address`` is a phone number in E.164, the only form a text can go to."""
    return E164.match(address) is not None


def _is_gsm7(char: str) -> bool:
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def _pack(sizes: list[int], single_limit: int, part: int) -> int:
    """Count segments, never splitting one character's units across two of them."""
    if sum(sizes) <= single_limit:
        return 1
    segments, used = 1, 0
    for size in sizes:
        if used + size > part:
            segments += 1
            used = 0
        used += size
    return segments


@functools.lru_cache(maxsize=4096)  # pure; the bot's texts repeat for every texter
def sms_cost(text: str) -> SmsCost:
    """Return the encoding, billed segment count and unit length of ``text``.

    One character outside GSM-7 makes the whole text UCS-2.  The empty text is still
    one segment if sent.
    """
    if all(_is_gsm7(c) for c in text):
        sizes = [2 if c in GSM7_EXTENSION else 1 for c in text]
        return SmsCost("GSM-7", _pack(sizes, _GSM_SINGLE_LIMIT, _GSM_PART), sum(sizes))
    sizes = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return SmsCost("UCS-2", _pack(sizes, _UCS2_SINGLE_LIMIT, _UCS2_PART), sum(sizes))


def ucs2_culprits(text: str) -> list[str]:
    """Return the distinct characters that force ``text`` into UCS-2, in order of appearance."""
    return list(dict.fromkeys(c for c in text if not _is_gsm7(c)))


_GSM_SAFE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",  # minus sign
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",  # narrow no-break space (French punctuation, some keyboards)
        "\u2022": "-",
    }
)


def gsm_safe(text: str) -> str:
    """Replace typographic characters that have a plain GSM-7 look-alike.

    Curly quotes, dashes, ellipsis, no-break spaces and bullets are what word processors
    and phones slip in; each would otherwise turn the text UCS-2 and more than double
    its cost.  Anything else (emoji, other scripts) is left for the caller to judge.
    """
    return text.translate(_GSM_SAFE)


# Markdown flattening.  Spans that must come through verbatim (code, URLs, escaped
# characters) are swapped for private-use placeholders first so the emphasis rules
# cannot eat their underscores and asterisks.
_HOLD_OPEN, _HOLD_CLOSE = "\ue000", "\ue001"
_HOLD_RE = re.compile(f"{_HOLD_OPEN}(\\d+){_HOLD_CLOSE}")
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_RULE_RE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_BULLET_RE = re.compile(r"^(\s*)[-*+]\s+")
_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!~>|])")
_CODE_RE = re.compile(r"(`+)(.+?)\1")
_IMAGE_OR_LINK_RE = re.compile(r"(!?)\[([^\]]*)\]\(\s*<?([^\s)>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK_RE = re.compile(r"<((?:https?|mailto):[^\s>]+)>")
_BARE_URL_RE = re.compile(r"\b(?:https?://|www\.)[^\s<>()]+")
_EMPHASIS = (
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
    # Single markers need a non-word character outside and non-space inside, so
    # "2 * 3", "a*b" and snake_case survive.
    re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])"),
    re.compile(r"(?<![_\w])_(?=[^\s_])(.+?)(?<=[^\s_])_(?![_\w])"),
)


def _flatten_inline(line: str) -> str:
    held: list[str] = []

    def hold(value: str) -> str:
        held.append(value)
        return f"{_HOLD_OPEN}{len(held) - 1}{_HOLD_CLOSE}"

    def link(match: re.Match[str]) -> str:
        label, url = match.group(2).strip(), match.group(3)
        if not label or label == url:
            return hold(url)
        return f"{label}: {hold(url)}"

    line = _ESCAPE_RE.sub(lambda m: hold(m.group(1)), line)
    line = _CODE_RE.sub(lambda m: hold(m.group(2).strip()), line)
    line = _IMAGE_OR_LINK_RE.sub(link, line)
    line = _AUTOLINK_RE.sub(lambda m: hold(m.group(1)), line)
    line = _BARE_URL_RE.sub(lambda m: hold(m.group(0)), line)
    for pattern in _EMPHASIS:
        line = pattern.sub(r"\1", line)
    # A held value may itself contain placeholders (a link label with code in it).
    while _HOLD_RE.search(line):
        line = _HOLD_RE.sub(lambda m: held[int(m.group(1))], line)
    return line


@functools.lru_cache(maxsize=4096)  # pure, and a topic's prompts repeat for every texter
def flatten_markdown(text: str) -> str:
    """Turn Markdown into plain text that reads well on a phone.

    Emphasis and code markers are dropped, links become ``label: url`` (just the URL
    when the label repeats it), headings lose their ``#``, bullets become ``- ``,
    fenced code is kept verbatim, trailing spaces go and runs of blank lines shrink to
    one blank line.
    """
    out: list[str] = []
    in_fence = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        if _FENCE_RE.match(raw):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(raw.rstrip())
            continue
        line = raw
        if _RULE_RE.match(line):
            line = "---"
        elif heading := _HEADING_RE.match(line):
            line = _flatten_inline(heading.group(1))
        elif bullet := _BULLET_RE.match(line):
            line = f"{bullet.group(1)}- {_flatten_inline(line[bullet.end() :])}"
        else:
            line = _flatten_inline(line)
        out.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


_ELLIPSIS = "..."


def fit_segments(text: str, max_segments: int) -> str:
    """Shorten ``text`` on a word boundary, ending in ``...``, to fit ``max_segments``.

    Text that already fits comes back unchanged.  A single word too long for the
    budget is cut mid-word rather than dropped.
    """
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    if sms_cost(text).segments <= max_segments:
        return text

    def fits(prefix: str) -> bool:
        return sms_cost(prefix + _ELLIPSIS).segments <= max_segments

    def trimmed(end: int) -> str:
        return text[:end].rstrip().rstrip(",;:-")

    # Segments never shrink as a prefix grows, so the longest fitting cut can be found
    # by bisection, first over word boundaries and failing that over characters.
    for cuts in ([i for i, c in enumerate(text) if c.isspace()], list(range(len(text)))):
        lo, hi, best = 0, len(cuts) - 1, -1
        while lo <= hi:
            mid = (lo + hi) // 2
            if fits(trimmed(cuts[mid])):
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        if best >= 0 and trimmed(cuts[best]):
            return trimmed(cuts[best]) + _ELLIPSIS
    return _ELLIPSIS

"""SMS encoding, segment counting, text shaping and reply parsing."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textdesk.domain.agent.texter_replies import (
    Option,
    normalize_command,
    page_count,
    parse_choice,
    parse_yes_no,
    render_choices,
)
from textdesk.domain.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SmsCost,
    fit_segments,
    flatten_markdown,
    gsm_safe,
    is_e164,
    sms_cost,
    ucs2_culprits,
)

HELPDESK = (
    Option("printer", "Printer problem"),
    Option("password", "Password reset"),
    Option("email", "Email not working"),
    Option("laptop", "New laptop"),
    Option("other", "Other"),
)
TWELVE = tuple(Option(f"v{i}", f"Topic number {i}") for i in range(1, 13))


@pytest.mark.parametrize(
    ("address", "textable"),
    [
        ("+15551230001", True),
        ("+447700900123", True),
        ("15551230001", False),  # no "+": not E.164
        ("+05551230001", False),  # no country code starts with 0
        ("+1555", False),
        ("+1234567890123456", False),  # 16 digits: longer than E.164 allows
        ("+1555\u0661230001", False),  # an Arabic-Indic digit is not a phone digit
        ("whatsapp:+15551230001", False),
        ("TEXTDESK", False),
    ],
)
def test_only_an_e164_number_can_be_texted(address: str, textable: bool) -> None:
    """One rule decides which addresses take an SMS: E.164 with ASCII digits only."""
    assert is_e164(address) is textable


# --- encoding and segments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "segments"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm_segment_boundaries(length: int, segments: int) -> None:
    """Plain GSM text is one segment up to 160 septets, then 153 per segment."""
    assert sms_cost("a" * length) == SmsCost("GSM-7", segments, length)


def test_empty_text_is_one_segment() -> None:
    """Sending nothing still costs a segment."""
    assert sms_cost("") == SmsCost("GSM-7", 1, 0)


def test_euro_counts_two_septets() -> None:
    """An extension-table character is escaped, so it costs two septets."""
    assert sms_cost("€") == SmsCost("GSM-7", 1, 2)
    assert sms_cost("a" * 159 + "€").segments == 2


def test_every_extension_character_counts_two() -> None:
    """Each of ^{}\\[~]|€ and form feed is two septets and stays GSM-7."""
    for char in "^{}\\[~]|€\f":
        assert sms_cost(char) == SmsCost("GSM-7", 1, 2)


def test_extension_character_is_not_split_across_segments() -> None:
    """A two-septet character that would straddle a segment boundary starts the next one."""
    text = "a" * 152 + "€" + "a" * 152  # 306 septets, but the € cannot fit in part one
    assert sms_cost(text) == SmsCost("GSM-7", 3, 306)


def test_full_basic_charset_is_gsm7() -> None:
    """Every character of the GSM 03.38 basic table keeps the text GSM-7."""
    text = "".join(sorted(GSM7_BASIC))
    assert len(GSM7_BASIC) == 127
    assert sms_cost(text).encoding == "GSM-7"
    assert ucs2_culprits(text) == []


def test_one_curly_quote_makes_text_ucs2() -> None:
    """A single ’ turns a 100-character text into two UCS-2 segments."""
    text = "It’s" + "a" * 96
    assert sms_cost(text) == SmsCost("UCS-2", 2, 100)


def test_emoji_is_two_utf16_units() -> None:
    """A character outside the BMP is a surrogate pair: two UCS-2 units."""
    assert sms_cost("🙂") == SmsCost("UCS-2", 1, 2)


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_segment_boundaries(length: int, segments: int) -> None:
    """UCS-2 text is one segment up to 70 units, then 67 per segment."""
    assert sms_cost("ж" * length) == SmsCost("UCS-2", segments, length)


def test_surrogate_pair_is_not_split_across_segments() -> None:
    """An emoji that would straddle a UCS-2 boundary moves whole to the next segment."""
    text = "ж" * 66 + "🙂" + "ж" * 66  # 134 units, two segments only if the pair split
    assert sms_cost(text) == SmsCost("UCS-2", 3, 134)


def test_accented_gsm_letters_stay_gsm7() -> None:
    """é, ñ, ü and friends are in the GSM table; ê is not."""
    assert sms_cost("é" * 70).encoding == "GSM-7"
    assert sms_cost("ê").encoding == "UCS-2"


def test_ucs2_culprits_names_curly_quote_and_en_dash() -> None:
    """The culprits are the distinct non-GSM characters, in order of appearance."""
    assert ucs2_culprits("It’s ready – isn’t it?") == ["’", "–"]


def test_gsm_safe_replaces_typographic_characters() -> None:
    """Curly quotes, dashes, ellipsis, no-break space and bullet become GSM look-alikes."""
    assert gsm_safe("‘a’ ‚b‛ “c” „d") == "'a' 'b' \"c\" \"d"
    assert gsm_safe("a – b — c… •\u00a0x") == "a - b - c... - x"


def test_gsm_safe_leaves_emoji_alone() -> None:
    """Emoji are the caller's decision, not gsm_safe's."""
    assert gsm_safe("Thanks 🙂 it’s done") == "Thanks 🙂 it's done"


@given(st.text(alphabet="abc XYZ012.,!?'\"‘’“”–—…•\u00a0"))
def test_gsm_safe_makes_typographic_text_gsm7(text: str) -> None:
    """Text made only of ASCII and the replaced characters is GSM-7 after gsm_safe."""
    assert sms_cost(gsm_safe(text)).encoding == "GSM-7"


@given(st.text())
def test_segments_never_below_one(text: str) -> None:
    """Any text costs at least one segment and its length is never negative."""
    cost = sms_cost(text)
    assert cost.segments >= 1
    assert cost.length >= 0


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 .,", min_size=161, max_size=2000))
def test_plain_ascii_segments_are_ceil_len_over_153(text: str) -> None:
    """Without extension characters, long GSM text costs ceil(len / 153) segments."""
    assert sms_cost(text).segments == math.ceil(len(text) / 153)


@given(st.text(alphabet=st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION)), max_size=1000))
def test_gsm_parts_hold_at_most_153_septets(text: str) -> None:
    """Greedy packing never needs more than one extra segment over the septet bound."""
    cost = sms_cost(text)
    bound = 1 if cost.length <= 160 else math.ceil(cost.length / 153)
    assert bound <= cost.segments <= max(1, math.ceil(cost.length / 152))


# --- markdown flattening ---------------------------------------------------------------


def test_flatten_bold_italic_and_code() -> None:
    """Emphasis and code markers are dropped, keeping the words."""
    assert flatten_markdown("**Bold**, __strong__, *it*, _em_ and `code`") == (
        "Bold, strong, it, em and code"
    )


def test_flatten_keeps_intraword_underscores_and_arithmetic() -> None:
    """snake_case, 2 * 3 and a*b are not emphasis."""
    text = "Set snake_case_name to 2 * 3 or a*b*c"
    assert flatten_markdown(text) == text


def test_a_link_becomes_its_label_and_url_or_just_the_url() -> None:
    """Links become "label: url", or just the URL when the label repeats it."""
    assert flatten_markdown("See [the docs](https://ex.com/a_b_c_).") == (
        "See the docs: https://ex.com/a_b_c_."
    )
    assert flatten_markdown("[https://ex.com](https://ex.com)") == "https://ex.com"


def test_an_image_becomes_its_alt_text_and_url() -> None:
    """Images become "alt: url"."""
    assert flatten_markdown("![Reset screen](https://ex.com/r.png)") == (
        "Reset screen: https://ex.com/r.png"
    )


def test_flatten_headings_and_bullets() -> None:
    """Headings lose their hashes; -, * and + bullets all become "- "."""
    text = "# Reset your password ##\n\n- first\n* **second**\n  + nested"
    assert flatten_markdown(text) == "Reset your password\n\n- first\n- second\n  - nested"


def test_flatten_collapses_blank_lines_and_trailing_spaces() -> None:
    """Runs of blank lines shrink to one and trailing spaces go."""
    assert flatten_markdown("one   \n\n\n\n\ntwo  \n") == "one\n\ntwo"


def test_flatten_code_and_urls_are_verbatim() -> None:
    """Markers inside code spans, fenced blocks and URLs are kept."""
    text = "Run `a **b**` at https://ex.com/_x_\n```\nkeep *this*\n```"
    assert flatten_markdown(text) == "Run a **b** at https://ex.com/_x_\nkeep *this*"


def test_flatten_backslash_escapes() -> None:
    """Escaped markers come out as the literal character."""
    assert flatten_markdown(r"\*not italic\*") == "*not italic*"


# --- truncation ------------------------------------------------------------------------


def test_fit_segments_returns_fitting_text_unchanged() -> None:
    """Text already within the budget is not touched."""
    assert fit_segments("Hello there", 1) == "Hello there"


def test_fit_segments_cuts_on_word_boundary() -> None:
    """A long text is cut after a whole word and ends in "..."."""
    result = fit_segments("word " * 100, 1)
    assert result.endswith("word...")
    assert sms_cost(result).segments == 1
    assert len(result) > 150


def test_fit_segments_cuts_inside_a_giant_word() -> None:
    """A single word too long for the budget is cut mid-word."""
    assert fit_segments("x" * 400, 1) == "x" * 157 + "..."


def test_fit_segments_rejects_zero_budget() -> None:
    """A budget below one segment is a programming error."""
    with pytest.raises(ValueError, match="at least 1"):
        fit_segments("hi", 0)


@given(st.text(max_size=800), st.integers(min_value=1, max_value=4))
def test_fit_segments_always_fits(text: str, budget: int) -> None:
    """Whatever the text, the result fits the budget."""
    result = fit_segments(text, budget)
    assert sms_cost(result).segments <= budget
    if sms_cost(text).segments <= budget:
        assert result == text
    else:
        assert result.endswith("...")


# --- choices ---------------------------------------------------------------------------


def test_menu_pages_round_up_and_an_empty_menu_is_one_page() -> None:
    """Pages round up, and an empty menu is still one page."""
    assert [page_count(n, 9) for n in (0, 1, 9, 10, 18, 19)] == [1, 1, 1, 2, 2, 3]


def test_render_first_page_with_more() -> None:
    """The first page lists 1..9 and invites MORE while options remain."""
    text = render_choices("Pick a topic:", TWELVE)
    lines = text.split("\n")
    assert lines[0] == "Pick a topic:"
    assert lines[1] == "1. Topic number 1"
    assert lines[9] == "9. Topic number 9"
    assert lines[-1] == "Reply MORE for more options."
    assert len(lines) == 11


def test_render_second_page_continues_numbering() -> None:
    """Page two starts at 10 and, being the last, has no MORE line."""
    text = render_choices("Pick a topic:", TWELVE, page=1)
    assert text == ("Pick a topic:\n10. Topic number 10\n11. Topic number 11\n12. Topic number 12")


def test_render_custom_more_word_and_short_menu() -> None:
    """A custom more word is used; a one-page menu has no MORE line."""
    assert render_choices("Q", TWELVE, page_size=5, more_word="NEXT").endswith(
        "Reply NEXT for more options."
    )
    assert "Reply" not in render_choices("Q", HELPDESK)


def test_render_rejects_page_out_of_range() -> None:
    """Asking for a page past the end is a programming error."""
    with pytest.raises(ValueError, match="out of range"):
        render_choices("Q", HELPDESK, page=1)


@pytest.mark.parametrize(
    ("reply", "value", "reason"),
    [
        ("2", "password", "number"),
        ("2.", "password", "number"),
        ("#2", "password", "number"),
        ("(2)", "password", "number"),
        (" 2) ", "password", "number"),
        ("two", "password", "word"),
        ("Two", "password", "word"),
        ("second", "password", "word"),
        ("2nd", "password", "word"),
        ("first", "printer", "word"),
        ("option 3", "email", "word"),
        ("PRINTER PROBLEM", "printer", "label"),
        ("printer problem!", "printer", "label"),
        ("laptop", "laptop", "label"),
        ("Printer", "printer", "label"),
        ("print", "printer", "label"),
        ("reset", "password", "label"),
        ("printr", "printer", "fuzzy"),
        ("pasword reset", "password", "fuzzy"),
        ("laptp", "laptop", "fuzzy"),
    ],
)
def test_parse_choice_matches(reply: str, value: str, reason: str) -> None:
    """Numbers, number words, labels, prefixes, label words and typos pick one option."""
    match = parse_choice(reply, HELPDESK)
    assert match.matched is not None
    assert (match.matched.value, match.reason) == (value, reason)
    assert not match.more


def test_parse_choice_ignores_accents() -> None:
    """Accents and case in the reply or the label do not matter."""
    options = (Option("cafe", "Café menu"), Option("bar", "Bar"))
    assert parse_choice("CAFE MENU", options).matched == options[0]
    assert parse_choice("bár", options).matched == options[1]


def test_parse_choice_accepts_number_from_another_page() -> None:
    """Numbering is absolute: 11 picks the eleventh option even while page 0 is shown."""
    assert parse_choice("11", TWELVE, page=0).matched == TWELVE[10]


@pytest.mark.parametrize("reply", ["0", "99", "6", "", "   ", "🙂", "xyz", "the", "?!"])
def test_parse_choice_none(reply: str) -> None:
    """Out-of-range numbers, emptiness, emoji and nonsense match nothing."""
    match = parse_choice(reply, HELPDESK)
    assert (match.reason, match.matched, match.ambiguous) == ("none", None, ())


def test_parse_choice_tie_is_ambiguous() -> None:
    """A reply that fits two options equally well names both instead of guessing."""
    options = (Option("ink", "Printer ink"), Option("jam", "Printer jam"), Option("x", "Other"))
    for reply in ("printer", "printr", "print"):
        match = parse_choice(reply, options)
        assert match.reason == "ambiguous"
        assert match.matched is None
        assert match.ambiguous == options[:2]


def test_parse_choice_more_advances_then_wraps() -> None:
    """MORE moves to the next page, and from the last page back to the first."""
    first = parse_choice("more", TWELVE, page=0)
    assert (first.reason, first.more, first.next_page) == ("more", True, 1)
    last = parse_choice("MORE.", TWELVE, page=1)
    assert (last.reason, last.more, last.next_page) == ("more", True, 0)
    assert parse_choice("next", TWELVE, more_word="NEXT").more


def test_parse_choice_with_no_options() -> None:
    """With nothing to choose from, every reply is none."""
    assert parse_choice("1", ()).reason == "none"


@given(
    st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=30),
    st.data(),
)
def test_parse_choice_of_number_always_picks_that_option(
    labels: list[str], data: st.DataObject
) -> None:
    """str(i) selects option i whatever the labels say."""
    options = [Option(f"v{i}", label) for i, label in enumerate(labels)]
    i = data.draw(st.integers(min_value=1, max_value=len(options)))
    match = parse_choice(str(i), options)
    assert (match.matched, match.reason) == (options[i - 1], "number")


# --- yes / no --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "y", "yes", "Yes!", "YES", "yeah", "yep", "yup", "ya", "sure", "ok", "okay", "k",
        "correct", "right", "affirmative", "👍", "👍🏽", "true", "1", "1.", "yes please",
        " Yes, thanks ", "ok thank you",
    ],
)  # fmt: skip
def test_common_ways_of_saying_yes_read_as_yes(reply: str) -> None:
    """Common ways of saying yes read as True."""
    assert parse_yes_no(reply) is True


@pytest.mark.parametrize(
    "reply",
    [
        "n", "no", " NO. ", "nope", "nah", "no thanks", "No thank you", "negative", "false",
        "👎", "2", "No!",
    ],
)  # fmt: skip
def test_common_ways_of_saying_no_read_as_no(reply: str) -> None:
    """Common ways of saying no read as False."""
    assert parse_yes_no(reply) is False


@pytest.mark.parametrize("reply", ["", "maybe", "yes no", "3", "🙂", "not sure", "yesterday"])
def test_yes_no_otherwise_none(reply: str) -> None:
    """Anything that is neither a clear yes nor a clear no is None."""
    assert parse_yes_no(reply) is None


# --- commands --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("Stop.", "stop"),
        (" MENU ", "menu"),
        ("bye!", "bye"),
        ("  Start   over?! ", "start over"),
        ("...HELP...", "help"),
        ("", ""),
    ],
)
def test_a_command_is_casefolded_trimmed_and_its_spaces_collapsed(text: str, command: str) -> None:
    """Whole-message commands are casefolded, trimmed of punctuation, spaces collapsed."""
    assert normalize_command(text) == command

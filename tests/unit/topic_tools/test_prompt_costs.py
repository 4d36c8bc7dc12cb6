"""The cost of each text of a topic source, as the designer shows it while typing."""

from __future__ import annotations

from textdesk.topic_tools.prompt_costs import Piece, prompt_costs

SOURCE = """\
title: Colour
nodes:
  - id: pick
    type: choice
    prompt: Which colour?
    var: colour
    options: [Red, Blue]
  - type: message
    text: "Thanks \U0001f600 {{ vars.colour.label }}"
  - type: end
"""


def test_a_choice_is_costed_with_its_numbered_options_on_the_prompt_line() -> None:
    """The texter gets the prompt and the options in one text: that is what is costed."""
    first = prompt_costs(SOURCE)[0]
    assert (first.node, first.node_id, first.field, first.line) == (0, "pick", "prompt", 5)
    assert "2" in first.sent
    assert "Blue" in first.sent
    assert (first.encoding, first.segments, first.culprits) == ("GSM-7", 1, ())


def test_an_emoji_makes_the_text_ucs2_and_is_cut_out_to_be_marked() -> None:
    """The culprit is named with its code point and is a piece of its own."""
    message = prompt_costs(SOURCE)[1]
    assert (message.node_id, message.line, message.encoding) == ("n2", 9, "UCS-2")
    assert message.named_culprits == [("\U0001f600", "U+1F600")]
    assert Piece("\U0001f600", culprit=True) in message.pieces
    assert "".join(p.text for p in message.pieces) == message.sent
    assert "x" * 10 in message.sent  # the placeholder, estimated


def test_a_half_typed_source_still_costs_the_nodes_that_read() -> None:
    """A node missing its fields is skipped; broken YAML costs nothing, without an error."""
    half = SOURCE.replace("  - type: end\n", "  - type: text\n    prompt: Name?\n")
    assert [c.node for c in prompt_costs(half)] == [0, 1]
    assert prompt_costs("nodes: [unclosed") == []
    assert prompt_costs("just text") == []


def test_the_more_word_is_part_of_a_long_choice() -> None:
    """A list too long for one page is costed with the settings' word for the next page."""
    many = ", ".join(f"Option number {i}" for i in range(40))
    source = (
        f"title: T\nnodes:\n  - type: choice\n    prompt: Pick\n    var: v\n    options: [{many}]\n"
    )
    assert "PLUS" in prompt_costs(source, more_word="PLUS")[0].sent


def test_the_settings_texts_written_are_costed_on_their_lines() -> None:
    """``_settings`` sends texts too (help, the fallback's words…): each one written
    is costed where it is, an emoji in one shown as forcing UCS-2."""
    settings = (
        "more_word: MORE\n"
        "help_text: Text MENU for options.\n"
        "texts:\n"
        '  closing: "Sorry \\U0001F625 try again"\n'
        "  not_image: Only photos, please.\n"
    )
    costs = prompt_costs(settings)
    assert [(c.node_id, c.field, c.line, c.encoding) for c in costs] == [
        ("_settings", "help_text", 2, "GSM-7"),
        ("_settings", "texts.closing", 4, "UCS-2"),
        ("_settings", "texts.not_image", 5, "GSM-7"),
    ]
    assert costs[1].named_culprits == [("\U0001f625", "U+1F625")]

"""Topic sources the designer's tests share, from unit tests to the browser."""

from __future__ import annotations

from collections.abc import Sequence

ROUTER = """\
title: Restart the router
keywords: [router]
nodes:
  - type: image
    media: topics/router/back.png
    caption: The power button is on the back.
  - type: message
    text: Hold it for ten seconds.
"""
"""The router topic: its image (``topics/router/back.png``, uploaded beside it), then a text."""

PLAIN_ROUTER = """\
title: Restart the router
keywords: [router]
nodes:
  - type: message
    text: Hold the power button for ten seconds.
"""
"""The router topic before it has an image: what a test saves first, to upload to."""


def printer_topic(
    *,
    title: str,
    keyword: str,
    prompt: str,
    options: Sequence[str],
    pick: str = "Which of your open incidents is it about?",
) -> str:
    """The issue's path as YAML: a choice (its prompt on line 6), a dynamic choice of the
    texter's open incidents, the picked one's card, and thanks naming the choice."""
    return f"""\
title: {title}
keywords: [{keyword}]
nodes:
  - id: kind
    type: choice
    prompt: {prompt}
    var: kind
    options: [{", ".join(options)}]
  - id: pick
    type: dynamic_choice
    prompt: {pick}
    var: incident
    source: my_open_incidents
    empty_text: You have no open incidents.
  - type: card
    record: incident
    fields: [number, short_description, state]
    link: false
  - type: end
    message: Thanks, we noted the {{{{ vars.kind.label }}}}.
"""

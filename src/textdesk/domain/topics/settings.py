"""Settings of a topic set: which topics greet and catch, command words, bot wording.

Everything the virtual agent says on its own (not from a topic) lives here so a
service desk can reword it, translate it, or shorten it to save segments, in
``_settings.yaml`` next to the topic files.  Texts are Jinja2 templates like topic
text; the names each one receives are listed beside it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CommandWords", "Texts", "TopicSettings"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommandWords(_Model):
    """Whole-message commands, matched case- and punctuation-insensitively."""

    menu: list[str] = Field(default_factory=lambda: ["menu", "restart"])
    agent: list[str] = Field(default_factory=lambda: ["agent"])
    help: list[str] = Field(default_factory=lambda: ["help"])
    bye: list[str] = Field(default_factory=lambda: ["bye"])


class Texts(_Model):
    """What the agent says outside topics."""

    welcome_back: str = "Welcome back!"
    menu_prompt: str = "What can I help you with? Reply with a number:"
    did_you_mean: str = "Did you mean:"
    anything_else: str = "Anything else? Reply MENU for options."
    needs_account: str = (
        "Sorry, that needs a service desk account and this number isn't linked to one. "
        "Text or call the service desk to register. Reply MENU for other options."
    )
    offer_agent: str = (
        "Sorry, I'm having trouble understanding. "
        "Reply AGENT to talk to a person or MENU to start over."
    )
    # names: minutes (only rendered when the queue gave an estimate)
    stand_by: str = "Please stand by, I'm connecting you with an agent."
    wait_estimate: str = "Estimated wait: about {{ minutes }} min."
    no_agent: str = (
        "No agent is available right now. Reply REPORT to leave a message (we'll open an "
        "incident) or MENU for options."
    )
    out_of_hours: str = (
        "Our agents are away right now (outside business hours). Reply REPORT to leave a "
        "message (we'll open an incident) or MENU for options."
    )
    back_to_bot: str = "You're back with the virtual agent. Reply MENU for options."
    closing: str = "Thanks for texting the service desk. Goodbye!"
    not_understood: str = "Sorry, I didn't get that."
    pick_number: str = "Please reply with one of the numbers."
    yes_no: str = "Please reply YES or NO."
    send_photo: str = "Please send a photo."
    send_photo_or_skip: str = "Please send a photo (or reply SKIP)."
    not_image: str = "Only images can be sent here."
    # names: limit (e.g. "5 MB")
    too_large: str = "That image is too large (the limit is {{ limit }})."
    media_failed: str = "Sorry, I couldn't receive that image."
    # names: limit (megapixels, e.g. "25")
    too_many_pixels: str = "That image is too big to open (the limit is {{ limit }} megapixels)."
    # names: kept ("photo", "2 photos"), dropped ("PDF", "video and 2 files")
    partly_kept: str = "I kept your {{ kept }}, but not the {{ dropped }} you sent."
    required: str = "Please type an answer."
    # names: n
    too_short: str = "Please use at least {{ n }} characters."
    too_long: str = "Please keep it to {{ n }} characters or fewer."
    bad_pattern: str = "That doesn't look right."
    bad_email: str = "That doesn't look like an email address."
    bad_phone: str = "That doesn't look like a phone number. Please include the area code."
    # names: number
    record_not_found: str = "Sorry, I couldn't find {{ number }}."
    error: str = (
        "Sorry, something went wrong on our side. "
        "Reply AGENT to talk to a person or MENU to start over."
    )
    start_over: str = "Sorry, this conversation was changed. Let's start over."
    # A record system in another service (ServiceNow) did not answer after its retries.
    records_unavailable: str = (
        "Sorry, our record system isn't answering right now. "
        "Reply AGENT to talk to a person, or try again later."
    )
    # A report made while that system was down: kept, and made once it is back.
    record_pending: str = (
        "Thanks! Our record system isn't answering right now, so your report is being "
        "logged: we'll text you its number as soon as it has one."
    )
    # names: record (the new record, as cards see it)
    record_logged: str = (
        'Your report "{{ record.short_description }}" is logged as {{ record.number }}.'
    )


class TopicSettings(_Model):
    """The ``_settings.yaml`` of a topic folder; every key is optional."""

    greeting_topic: str | None = "greeting"
    fallback_topic: str | None = "fallback"
    # Topic ids in menu order; menu topics not listed follow in file-name order.
    menu_order: list[str] = Field(default_factory=list)
    help_text: str = (
        "Reply MENU for options, AGENT to talk to a person, BYE to end. HELP shows this again."
    )
    commands: CommandWords = Field(default_factory=CommandWords)
    texts: Texts = Field(default_factory=Texts)
    more_word: str = "MORE"
    skip_words: list[str] = Field(default_factory=lambda: ["skip", "no", "none"])
    # Discovery: a topic must score this much (0-100) against the text, and lead the
    # runner-up by the margin, to start without asking "Did you mean".
    match_threshold: float = Field(default=80.0, ge=0, le=100)
    match_margin: float = Field(default=5.0, ge=0, le=100)

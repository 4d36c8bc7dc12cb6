"""The nodes a topic is made of: inputs, responses and flow.

Inputs ask the texter something and store the answer in ``vars``; responses say
something; flow nodes branch, jump, call other topics, hand over to a person or act
on records.  Each node is a Pydantic model forbidding unknown keys, so a typo
(``promt:``) is an error with a line number rather than a silent default; ``Node`` is
the union of them all, told apart by ``type``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

__all__ = [
    "EDGE_LABEL",
    "ID_PATTERN",
    "INPUT_NODES",
    "NODE_REF",
    "VAR_PATTERN",
    "AddCommentNode",
    "BooleanNode",
    "CardField",
    "CardNode",
    "ChoiceNode",
    "ChoiceOption",
    "CreateRecordNode",
    "DecisionBranch",
    "DecisionNode",
    "DynamicChoiceNode",
    "EndNode",
    "FileNode",
    "GotoNode",
    "ImageNode",
    "InputNode",
    "LinkNode",
    "MessageNode",
    "Node",
    "SetNode",
    "SwitchTopicNode",
    "TextNode",
    "TransferNode",
    "UpdateRecordNode",
    "node_ref",
]

VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
VarName = Annotated[str, Field(pattern=VAR_PATTERN)]
# JSON Schema annotations of a field whose value is the id of a node of the same
# topic: the validator, the flow view and the designer's edits find such fields by
# this mark (see ``node_refs``), so a new one needs nothing but the mark.
NODE_REF = "x-node-ref"
EDGE_LABEL = "x-edge-label"


def node_ref(label: str | None = None) -> dict[str, JsonValue]:
    """``json_schema_extra`` of a field naming a node; ``label``: its arrow's words."""
    extra: dict[str, JsonValue] = {NODE_REF: True}
    if label is not None:
        extra[EDGE_LABEL] = label
    return extra


class _Model(BaseModel):
    # A field's docstring is its description in the JSON Schema: the designer's
    # forms show it as the field's help.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class _NodeBase(_Model):
    id: Annotated[str, Field(pattern=r"^$|" + ID_PATTERN)] = ""
    """A name for gotos and decisions to jump to; without one the node is n1, n2… by position."""
    when: str | None = None  # Jinja2 expression; the node is skipped when false
    """A condition (Jinja2, e.g. ``vars.wants_photo``): the node is skipped when it is false."""


# --- inputs -------------------------------------------------------------------------


class TextNode(_NodeBase):
    """Free text, optionally checked by length, regex or format."""

    type: Literal["text"]
    prompt: str
    """The question texted to the texter."""
    var: VarName
    """The variable the answer is stored in (``vars.NAME`` in later texts)."""
    required: bool = True
    """Whether the texter must answer; when false, ``skip`` leaves it empty."""
    min_length: int | None = Field(default=None, ge=0)
    """The fewest characters an answer may have."""
    max_length: int | None = Field(default=None, ge=1)
    """The most characters an answer may have."""
    pattern: str | None = None
    """A regular expression the whole answer must match."""
    pattern_error: str | None = None
    """What to text back when the answer does not match ``pattern``."""
    format: Literal["email", "phone", "none"] = "none"
    """A format the answer must have: an email address or a phone number."""

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _lengths_agree(self) -> TextNode:
        if (
            self.min_length is not None
            and self.max_length is not None
            and self.min_length > self.max_length
        ):
            raise ValueError("min_length is greater than max_length")
        return self


class ChoiceOption(_Model):
    """One option; a plain string (or only one of value/label) sets both."""

    value: str
    """What is stored when this option is picked."""
    label: str
    """What the texter sees in the numbered list."""

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, data: Any) -> Any:
        if isinstance(data, bool):  # YAML reads a bare Yes/No as a boolean
            data = "Yes" if data else "No"
        if isinstance(data, str | int | float):
            return {"value": str(data), "label": str(data)}
        if isinstance(data, dict):
            data = {k: str(v) if isinstance(v, int | float) else v for k, v in data.items()}
            if "label" in data and "value" not in data:
                return {**data, "value": data["label"]}
            if "value" in data and "label" not in data:
                return {**data, "label": data["value"]}
        return data


class ChoiceNode(_NodeBase):
    """A fixed numbered list; stores ``{"value", "label"}``."""

    type: Literal["choice"]
    prompt: str
    """The question, texted above the numbered options."""
    var: VarName
    """The variable the picked option is stored in (``vars.NAME.label``)."""
    options: list[ChoiceOption] = Field(min_length=1)
    """The options, numbered from 1; a texter may answer the number or the words."""


class DynamicChoiceNode(_NodeBase):
    """A numbered list built at run time from records (``source`` names the query)."""

    type: Literal["dynamic_choice"]
    prompt: str
    """The question, texted above the numbered records."""
    var: VarName
    """The variable the picked record is stored in."""
    source: str
    """The record query that lists the choices (e.g. ``my_open_incidents``)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Parameters of the query, if it takes any."""
    label: str = "{{ r.number }} {{ r.short_description }}"  # r (or record): one record
    """How each record is shown in the list (a template; ``r`` is the record)."""
    value: str = "number"  # the record field stored as the choice's value
    """The record field stored as the choice's value."""
    empty_text: str = "There is nothing to choose from."
    """What to text when the query finds nothing."""
    # Without it the topic ends after empty_text.
    empty_goto: str | None = Field(default=None, json_schema_extra=node_ref("nothing to choose"))
    """Where to go when the query finds nothing; without it the topic ends."""


class BooleanNode(_NodeBase):
    """A yes/no question; stores ``True``/``False``."""

    type: Literal["boolean"]
    prompt: str
    """The yes/no question."""
    var: VarName
    """The variable the answer (true or false) is stored in."""


class FileNode(_NodeBase):
    """Images sent as MMS; stores the list of stored media keys (empty when skipped)."""

    type: Literal["file"]
    prompt: str
    """What to ask for: the texter answers with photos (MMS)."""
    var: VarName
    """The variable the list of received images is stored in."""
    optional: bool = False
    """Whether the texter may answer ``skip`` instead of sending a photo."""
    max_files: int = Field(default=3, ge=1, le=10)
    """The most photos kept from one answer (1 to 10)."""


# --- responses ----------------------------------------------------------------------


class MessageNode(_NodeBase):
    type: Literal["message"]
    text: str
    """The text sent; ``{{ vars.NAME }}`` puts in an answer."""


class ImageNode(_NodeBase):
    type: Literal["image"]
    media: str  # media store key, e.g. demo/serial.png
    """The picture sent (MMS): its media store key, e.g. ``demo/serial.png``."""
    caption: str = ""
    """A text sent with the picture."""


class LinkNode(_NodeBase):
    type: Literal["link"]
    label: str
    """The words texted before the link."""
    url: str
    """The address texted."""


class CardField(_Model):
    """A record field shown on a card; ``label`` defaults to the field name, humanised."""

    field: str
    """The record field shown."""
    label: str | None = None
    """Its label on the card; by default the field name, humanised."""

    @model_validator(mode="before")
    @classmethod
    def _from_shorthand(cls, data: Any) -> Any:
        return {"field": data} if isinstance(data, str) else data

    @property
    def title(self) -> str:
        return self.label or self.field.replace("_", " ").capitalize()


def _default_card_fields() -> list[CardField]:
    names = ("number", "short_description", "state", "priority", "assigned_to")
    return [CardField(field=n) for n in names]


class CardNode(_NodeBase):
    """A record as compact ``Label: value`` lines (+ its link).

    ``record`` is a variable name (``incident``) or an expression
    (``"{{ vars.incident.number }}"``) giving a record dict, a choice holding one, or
    a record number to look up.
    """

    type: Literal["card"]
    record: str
    """The record shown: a variable name (``incident``) or an expression giving one."""
    fields: list[CardField] = Field(default_factory=_default_card_fields)
    """The record fields shown, one ``Label: value`` line each."""
    link: bool = True
    """Whether the record's link is texted under the card."""


# --- flow ---------------------------------------------------------------------------


class SetNode(_NodeBase):
    type: Literal["set"]
    var: VarName
    """The variable set."""
    value: Any  # template; a lone "{{ expr }}" keeps the expression's type
    """Its value: a template; a lone ``{{ expr }}`` keeps the expression's type."""


class DecisionBranch(_Model):
    when: str
    """The condition of this branch (Jinja2)."""
    goto: str = Field(json_schema_extra=node_ref())
    """The node to go to when the condition holds."""


class DecisionNode(_NodeBase):
    """The first branch whose condition holds wins; else ``default``, else the next node."""

    type: Literal["decision"]
    branches: list[DecisionBranch] = Field(min_length=1)
    """Conditions tried in order, each with the node it goes to."""
    default: str | None = Field(default=None, json_schema_extra=node_ref("otherwise"))
    """Where to go when no branch holds; without it, on to the next node."""


class GotoNode(_NodeBase):
    type: Literal["goto"]
    goto: str = Field(json_schema_extra=node_ref())
    """The node to go to next."""


class SwitchTopicNode(_NodeBase):
    """Run another topic; with ``resume`` come back to the next node when it ends."""

    type: Literal["switch_topic"]
    topic: str
    """The id of the topic to run."""
    resume: bool = False
    """Whether to come back to the next node when that topic ends."""


class TransferNode(_NodeBase):
    type: Literal["transfer"]
    queue: str | None = None
    """The queue of people the texter is handed to; by default the desk's."""
    message: str | None = None  # said when queued, instead of the stand-by text
    """What to text when queued, instead of the stand-by text."""


class EndNode(_NodeBase):
    type: Literal["end"]
    message: str | None = None
    """The last text of the topic, if any."""


class CreateRecordNode(_NodeBase):
    type: Literal["create_record"]
    table: str = "incident"
    """The table the record is made in."""
    fields: dict[str, Any]
    """The record's fields, each a template (``short_description: "{{ vars.what }}"``)."""
    attachments_var: VarName | None = None
    """A variable holding photos (a file node's) to attach."""
    var: VarName | None = None  # stores the created record
    """The variable the made record is stored in."""


class UpdateRecordNode(_NodeBase):
    type: Literal["update_record"]
    record: str
    """The record changed: a variable name or an expression giving one."""
    fields: dict[str, Any]
    """The fields changed, each a template."""
    var: VarName | None = None
    """The variable the changed record is stored in."""


class AddCommentNode(_NodeBase):
    type: Literal["add_comment"]
    record: str
    """The record commented on: a variable name or an expression giving one."""
    text: str
    """The comment (a template)."""


Node = Annotated[
    TextNode
    | ChoiceNode
    | DynamicChoiceNode
    | BooleanNode
    | FileNode
    | MessageNode
    | ImageNode
    | LinkNode
    | CardNode
    | SetNode
    | DecisionNode
    | GotoNode
    | SwitchTopicNode
    | TransferNode
    | EndNode
    | CreateRecordNode
    | UpdateRecordNode
    | AddCommentNode,
    Field(discriminator="type"),
]
InputNode = TextNode | ChoiceNode | DynamicChoiceNode | BooleanNode | FileNode
INPUT_NODES = (TextNode, ChoiceNode, DynamicChoiceNode, BooleanNode, FileNode)

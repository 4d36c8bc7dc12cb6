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
    model_config = ConfigDict(extra="forbid")


class _NodeBase(_Model):
    id: Annotated[str, Field(pattern=r"^$|" + ID_PATTERN)] = ""
    when: str | None = None  # Jinja2 expression; the node is skipped when false


# --- inputs -------------------------------------------------------------------------


class TextNode(_NodeBase):
    """Free text, optionally checked by length, regex or format."""

    type: Literal["text"]
    prompt: str
    var: VarName
    required: bool = True
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=1)
    pattern: str | None = None
    pattern_error: str | None = None
    format: Literal["email", "phone", "none"] = "none"

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
    label: str

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
    var: VarName
    options: list[ChoiceOption] = Field(min_length=1)


class DynamicChoiceNode(_NodeBase):
    """A numbered list built at run time from records (``source`` names the query)."""

    type: Literal["dynamic_choice"]
    prompt: str
    var: VarName
    source: str
    params: dict[str, Any] = Field(default_factory=dict)
    label: str = "{{ r.number }} {{ r.short_description }}"  # r (or record): one record
    value: str = "number"  # the record field stored as the choice's value
    empty_text: str = "There is nothing to choose from."
    # Without it the topic ends after empty_text.
    empty_goto: str | None = Field(default=None, json_schema_extra=node_ref("nothing to choose"))


class BooleanNode(_NodeBase):
    """A yes/no question; stores ``True``/``False``."""

    type: Literal["boolean"]
    prompt: str
    var: VarName


class FileNode(_NodeBase):
    """Images sent as MMS; stores the list of stored media keys (empty when skipped)."""

    type: Literal["file"]
    prompt: str
    var: VarName
    optional: bool = False
    max_files: int = Field(default=3, ge=1, le=10)


# --- responses ----------------------------------------------------------------------


class MessageNode(_NodeBase):
    type: Literal["message"]
    text: str


class ImageNode(_NodeBase):
    type: Literal["image"]
    media: str  # media store key, e.g. demo/serial.png
    caption: str = ""


class LinkNode(_NodeBase):
    type: Literal["link"]
    label: str
    url: str


class CardField(_Model):
    """A record field shown on a card; ``label`` defaults to the field name, humanised."""

    field: str
    label: str | None = None

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
    fields: list[CardField] = Field(default_factory=_default_card_fields)
    link: bool = True


# --- flow ---------------------------------------------------------------------------


class SetNode(_NodeBase):
    type: Literal["set"]
    var: VarName
    value: Any  # template; a lone "{{ expr }}" keeps the expression's type


class DecisionBranch(_Model):
    when: str
    goto: str = Field(json_schema_extra=node_ref())


class DecisionNode(_NodeBase):
    """The first branch whose condition holds wins; else ``default``, else the next node."""

    type: Literal["decision"]
    branches: list[DecisionBranch] = Field(min_length=1)
    default: str | None = Field(default=None, json_schema_extra=node_ref("otherwise"))


class GotoNode(_NodeBase):
    type: Literal["goto"]
    goto: str = Field(json_schema_extra=node_ref())


class SwitchTopicNode(_NodeBase):
    """Run another topic; with ``resume`` come back to the next node when it ends."""

    type: Literal["switch_topic"]
    topic: str
    resume: bool = False


class TransferNode(_NodeBase):
    type: Literal["transfer"]
    queue: str | None = None
    message: str | None = None  # said when queued, instead of the stand-by text


class EndNode(_NodeBase):
    type: Literal["end"]
    message: str | None = None


class CreateRecordNode(_NodeBase):
    type: Literal["create_record"]
    table: str = "incident"
    fields: dict[str, Any]
    attachments_var: VarName | None = None
    var: VarName | None = None  # stores the created record


class UpdateRecordNode(_NodeBase):
    type: Literal["update_record"]
    record: str
    fields: dict[str, Any]
    var: VarName | None = None


class AddCommentNode(_NodeBase):
    type: Literal["add_comment"]
    record: str
    text: str


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

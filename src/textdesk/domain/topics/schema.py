"""The topic schema: what a designer may write in a topic file.

A topic is a list of nodes (see ``nodes``) run top to bottom, plus what discovery
needs to find it: keywords, example phrases, a title for the menu.  A ``TopicSet``
is every topic of a deployment with its ``TopicSettings``.  Checks that span nodes
or topics (goto targets, template syntax, SMS cost) live in ``topic_checks``; the
node and settings models are re-exported here so one import serves designers' tools.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from textdesk.domain.topics.nodes import (
    ID_PATTERN,
    INPUT_NODES,
    AddCommentNode,
    BooleanNode,
    CardField,
    CardNode,
    ChoiceNode,
    ChoiceOption,
    CreateRecordNode,
    DecisionBranch,
    DecisionNode,
    DynamicChoiceNode,
    EndNode,
    FileNode,
    GotoNode,
    ImageNode,
    InputNode,
    LinkNode,
    MessageNode,
    Node,
    SetNode,
    SwitchTopicNode,
    TextNode,
    TransferNode,
    UpdateRecordNode,
)
from textdesk.domain.topics.settings import CommandWords, Texts, TopicSettings

__all__ = [
    "INPUT_NODES",
    "AddCommentNode",
    "BooleanNode",
    "CardField",
    "CardNode",
    "ChoiceNode",
    "ChoiceOption",
    "CommandWords",
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
    "Texts",
    "Topic",
    "TopicSet",
    "TopicSettings",
    "TransferNode",
    "UpdateRecordNode",
    "settings_json_schema",
    "topic_json_schema",
]

TopicId = Annotated[str, Field(pattern=ID_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Topic(_Model):
    """One conversation topic."""

    id: TopicId
    title: str
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)  # example texts for discovery
    requires_account: bool = False
    show_in_menu: bool = True
    nodes: list[Node] = Field(default_factory=list)
    _index: dict[str, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _number_nodes(self) -> Topic:
        # Designers only name the nodes they jump to; the rest get n1, n2... by
        # position, which stays stable as long as the file does.
        for position, node in enumerate(self.nodes, start=1):
            if not node.id:
                node.id = f"n{position}"
        return self

    def index_of(self, node_id: str) -> int | None:
        """Position of the node with ``node_id`` (the first, if ids repeat)."""
        # Read through __pydantic_private__ (a slot): ``self._index`` goes through
        # BaseModel.__getattr__, and this runs several times for every text.
        index: dict[str, int] | None = self.__pydantic_private__["_index"]  # type: ignore[index]
        if index is None:
            index = {}
            for position, node in enumerate(self.nodes):
                index.setdefault(node.id, position)
            self._index = index
        return index.get(node_id)


class TopicSet(_Model):
    """All topics of a deployment and their settings."""

    topics: list[Topic] = Field(default_factory=list)
    settings: TopicSettings = Field(default_factory=TopicSettings)
    # The published version of each topic, when they come from the database: a
    # conversation notes the one it starts, and finishes on it after a publish.
    versions: dict[str, int] = Field(default_factory=dict)
    _by_id: dict[str, Topic] | None = PrivateAttr(default=None)

    def get(self, topic_id: str | None) -> Topic | None:
        """The topic with ``topic_id``, or ``None``."""
        if topic_id is None:
            return None
        by_id: dict[str, Topic] | None = self.__pydantic_private__["_by_id"]  # type: ignore[index]
        if by_id is None:
            by_id = {}
            for topic in self.topics:
                by_id.setdefault(topic.id, topic)
            self._by_id = by_id
        return by_id.get(topic_id)

    def menu_topics(self, *, guest: bool) -> list[Topic]:
        """Topics for the numbered menu, in ``settings.menu_order``.

        Guests don't see the topics that need an account (asking for one by name
        still explains why they can't have it).
        """
        rank = {topic_id: i for i, topic_id in enumerate(self.settings.menu_order)}
        shown = [t for t in self.topics if t.show_in_menu and not (guest and t.requires_account)]
        return sorted(shown, key=lambda t: rank.get(t.id, len(rank)))


def topic_json_schema() -> dict[str, Any]:
    """JSON Schema of one topic file (editors use it for completion and checks)."""
    schema = Topic.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "textdesk topic"
    return schema


def settings_json_schema() -> dict[str, Any]:
    """JSON Schema of ``_settings.yaml``."""
    schema = TopicSettings.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "textdesk topic settings"
    return schema

"""Where a conversation with the virtual agent stands, as plain JSON-able data.

The state is all the engine needs to carry on after a restart: the services layer
stores ``to_dict()`` (a JSON column) and rebuilds it with ``from_dict()``.  Variables
and records in it are whatever the effects returned, so effect results must be
JSON-compatible (str, numbers, booleans, lists, dicts, None).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = ["ConversationState", "Frame", "Mode", "Pending"]

Mode = Literal["bot", "agent", "queued"]
# What the engine waits for after asking for an effect; the node id says which node.
Pending = Literal["query", "record", "create", "update", "comment", "media", "transfer"]


def _copied(value: Any) -> Any:
    """A deep copy of JSON-compatible data (anything else is shared, as it is immutable)."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


@dataclass
class Frame:
    """Where to come back to when a topic switched to with ``resume`` ends."""

    topic_id: str
    node_id: str  # the switch node; the caller carries on after it

    def to_dict(self) -> dict[str, str]:
        return {"topic_id": self.topic_id, "node_id": self.node_id}


@dataclass
class ConversationState:
    """The virtual agent's memory of one conversation.

    - ``topic_id``/``node_id``: the running topic and the node waiting for an answer
      (or for ``pending``); both ``None`` between topics.
    - ``vars``: answers and results; kept after a topic ends so a live agent can see
      them, cleared when the next topic starts.
    - ``retries``: bad answers in a row to the current question; ``page``: the page of
      the choice list shown; ``options``: the options of a dynamic choice (each
      ``{"value", "label", "record"}``), kept so a restart does not query again.
    - ``menu``: topic ids of the menu (or "Did you mean") last shown, when a reply to
      it is expected.
    - ``stack``: callers of the running topic (``switch_topic`` with ``resume``).
    - ``mode``: ``bot``, ``queued`` (waiting for an agent) or ``agent`` (a person
      talks; the engine stays out).
    - ``pending``: the effect the engine is waiting for (``query``, ``record``...).
    - ``transfer_reason``: why the pending transfer was asked for.
    - ``greeted``, ``offered_agent`` (after repeated bad answers), ``deferred_text``
      (the first text, looked at again once the greeting is done).
    """

    topic_id: str | None = None
    node_id: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    retries: int = 0
    page: int = 0
    options: list[dict[str, Any]] = field(default_factory=list)
    menu: list[str] | None = None
    stack: list[Frame] = field(default_factory=list)
    mode: Mode = "bot"
    pending: Pending | None = None
    transfer_reason: str | None = None
    last_activity: datetime | None = None
    greeted: bool = False
    offered_agent: bool = False
    deferred_text: str | None = None
    # The version of each topic it runs (the running one, its callers) as published
    # when it started there: a later publish serves new texters, not this one.
    versions: dict[str, int] = field(default_factory=dict)

    def copy(self) -> ConversationState:
        """A deep copy: the engine never changes the state it was given."""
        # Field by field rather than copy.deepcopy, which is several times slower: the
        # containers hold JSON-compatible values only (see the module's docstring).
        return ConversationState(
            topic_id=self.topic_id,
            node_id=self.node_id,
            vars=_copied(self.vars),
            retries=self.retries,
            page=self.page,
            options=_copied(self.options),
            menu=list(self.menu) if self.menu is not None else None,
            stack=[Frame(f.topic_id, f.node_id) for f in self.stack],
            mode=self.mode,
            pending=self.pending,
            transfer_reason=self.transfer_reason,
            last_activity=self.last_activity,
            greeted=self.greeted,
            offered_agent=self.offered_agent,
            deferred_text=self.deferred_text,
            versions=dict(self.versions),
        )

    def clear_topic(self) -> None:
        """Leave any topic (and its callers); variables stay for the live agent."""
        self.topic_id = None
        self.node_id = None
        self.stack = []
        self.pending = None
        self.transfer_reason = None
        self.menu = None
        self.versions = {}
        self.reset_question()

    def reset_question(self) -> None:
        self.retries = 0
        self.page = 0
        self.options = []

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (datetimes as ISO 8601)."""
        return {
            "topic_id": self.topic_id,
            "node_id": self.node_id,
            "vars": _copied(self.vars),
            "retries": self.retries,
            "page": self.page,
            "options": _copied(self.options),
            "menu": None if self.menu is None else list(self.menu),
            "stack": [f.to_dict() for f in self.stack],
            "mode": self.mode,
            "pending": self.pending,
            "transfer_reason": self.transfer_reason,
            "last_activity": None if self.last_activity is None else self.last_activity.isoformat(),
            "greeted": self.greeted,
            "offered_agent": self.offered_agent,
            "deferred_text": self.deferred_text,
            # Only when the topics have versions (from the database): most states
            # stay as small as before.
            **({"versions": dict(self.versions)} if self.versions else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConversationState:
        """Rebuild a state from ``to_dict()`` output; missing keys take defaults."""
        last = data.get("last_activity")
        return cls(
            topic_id=data.get("topic_id"),
            node_id=data.get("node_id"),
            vars=_copied(data.get("vars") or {}),
            retries=int(data.get("retries", 0)),
            page=int(data.get("page", 0)),
            options=_copied(data.get("options") or []),
            menu=None if data.get("menu") is None else list(data["menu"]),
            stack=[Frame(f["topic_id"], f["node_id"]) for f in data.get("stack") or []],
            mode=data.get("mode", "bot"),
            pending=data.get("pending"),
            transfer_reason=data.get("transfer_reason"),
            last_activity=None if last is None else datetime.fromisoformat(last),
            greeted=bool(data.get("greeted", False)),
            offered_agent=bool(data.get("offered_agent", False)),
            deferred_text=data.get("deferred_text"),
            versions={str(k): int(v) for k, v in (data.get("versions") or {}).items()},
        )

"""The tables the ServiceNow stand-in knows: their references, choices and journals.

Only what a client can notice is described: which fields hold a ``sys_id`` of
another table (shown as ``{"link", "value"}``), which hold a choice with a label
(``state`` 2 is "In Progress"), which are journals (``comments``), which field
is a record's display value, and the defaults an insert gets.  A table not listed
here is generic: any field can be written and every value is plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

SYSTEM_FIELDS = (
    "sys_id",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
)

# Labels as a stock instance shows them (English, no customisation).
INCIDENT_STATES = MappingProxyType(
    {
        "1": "New",
        "2": "In Progress",
        "3": "On Hold",
        "6": "Resolved",
        "7": "Closed",
        "8": "Canceled",
    }
)
INACTIVE_STATES = frozenset({"6", "7", "8"})
_IMPACT_URGENCY = MappingProxyType({"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"})
_PRIORITIES = MappingProxyType(
    {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"}
)
_CATEGORIES = MappingProxyType(
    {
        "inquiry": "Inquiry / Help",
        "software": "Software",
        "hardware": "Hardware",
        "network": "Network",
        "database": "Database",
    }
)
# The stock "Priority Lookup Rules": priority follows impact and urgency.
PRIORITY_LOOKUP = MappingProxyType(
    {
        ("1", "1"): "1",
        ("1", "2"): "2",
        ("2", "1"): "2",
        ("1", "3"): "3",
        ("2", "2"): "3",
        ("3", "1"): "3",
        ("2", "3"): "4",
        ("3", "2"): "4",
        ("3", "3"): "5",
    }
)
JOURNAL_LABELS = MappingProxyType({"comments": "Additional comments", "work_notes": "Work notes"})


@dataclass(frozen=True)
class Table:
    """What the stand-in knows about one table."""

    name: str
    # Empty means generic: any field may be written.
    columns: tuple[str, ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    journals: frozenset[str] = frozenset()
    display_field: str = "name"
    number_prefix: str | None = None
    defaults: Mapping[str, str] = field(default_factory=dict)

    @property
    def generic(self) -> bool:
        """Whether any field name is accepted."""
        return not self.columns

    def has(self, name: str) -> bool:
        """Whether ``name`` is a column of this table (always, for a generic table)."""
        return self.generic or name in self.columns or name in SYSTEM_FIELDS


INCIDENT = Table(
    name="incident",
    columns=(
        "number",
        "short_description",
        "description",
        "state",
        "incident_state",
        "active",
        "impact",
        "urgency",
        "priority",
        "category",
        "subcategory",
        "caller_id",
        "opened_by",
        "opened_at",
        "assigned_to",
        "assignment_group",
        "resolved_at",
        "resolved_by",
        "closed_at",
        "closed_by",
        "close_code",
        "close_notes",
        "contact_type",
        "correlation_id",
        "correlation_display",
        "comments",
        "work_notes",
        "sys_class_name",
    ),
    references=MappingProxyType(
        {
            "caller_id": "sys_user",
            "opened_by": "sys_user",
            "assigned_to": "sys_user",
            "resolved_by": "sys_user",
            "closed_by": "sys_user",
            "assignment_group": "sys_user_group",
        }
    ),
    choices=MappingProxyType(
        {
            "state": INCIDENT_STATES,
            "incident_state": INCIDENT_STATES,
            "impact": _IMPACT_URGENCY,
            "urgency": _IMPACT_URGENCY,
            "priority": _PRIORITIES,
            "category": _CATEGORIES,
        }
    ),
    journals=frozenset(JOURNAL_LABELS),
    display_field="number",
    number_prefix="INC",
    defaults=MappingProxyType(
        {
            "state": "1",
            "impact": "3",
            "urgency": "3",
            "category": "inquiry",
            "contact_type": "",
            "sys_class_name": "incident",
        }
    ),
)

SYS_USER = Table(
    name="sys_user",
    columns=(
        "user_name",
        "name",
        "first_name",
        "last_name",
        "email",
        "mobile_phone",
        "phone",
        "active",
        "locked_out",
        "title",
        "department",
        "manager",
    ),
    references=MappingProxyType({"manager": "sys_user"}),
    defaults=MappingProxyType({"active": "true", "locked_out": "false"}),
)

SYS_USER_GROUP = Table(
    name="sys_user_group",
    columns=("name", "description", "email", "active", "manager"),
    references=MappingProxyType({"manager": "sys_user"}),
    defaults=MappingProxyType({"active": "true"}),
)

SYS_JOURNAL_FIELD = Table(
    name="sys_journal_field",
    columns=("element", "element_id", "name", "value"),
    display_field="value",
)

SYS_ATTACHMENT = Table(
    name="sys_attachment",
    columns=(
        "file_name",
        "content_type",
        "size_bytes",
        "size_compressed",
        "compressed",
        "table_name",
        "table_sys_id",
        "average_image_color",
        "image_height",
        "image_width",
        "sys_tags",
    ),
    display_field="file_name",
)

TABLES: Mapping[str, Table] = MappingProxyType(
    {t.name: t for t in (INCIDENT, SYS_USER, SYS_USER_GROUP, SYS_JOURNAL_FIELD, SYS_ATTACHMENT)}
)


def table(name: str) -> Table:
    """The known table ``name``, or a generic one."""
    return TABLES.get(name) or Table(name=name)

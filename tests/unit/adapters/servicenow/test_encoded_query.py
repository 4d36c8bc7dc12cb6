"""Encoded queries: how terms parse, which rows match, and the order they come in."""

from __future__ import annotations

import pytest

from textdesk.adapters.servicenow.encoded_query import Condition, Ordering, parse

ROW = {
    "number": "INC0010001",
    "state": "2",
    "active": "true",
    "short_description": "VPN disconnects every hour",
    "assigned_to": "",
    "priority": "3",
    "sys_updated_on": "2026-12-02 10:00:00",
    "opened_by": "abc",
    "caller_id": "abc",
}


def matches(query: str, row: dict[str, str] = ROW) -> bool:
    return parse(query).matches(lambda field: row.get(field, ""))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=2", True),
        ("state=3", False),
        ("state!=3", True),
        ("state!=2", False),
        ("stateIN1,2,3", True),
        ("stateIN6,7,8", False),
        ("stateNOT IN6,7,8", True),
        ("stateNOT IN1,2", False),
        ("short_descriptionLIKEdisconnects", True),
        ("short_descriptionLIKEprinter", False),
        ("short_descriptionNOT LIKEprinter", True),
        ("short_descriptionSTARTSWITHVPN", True),
        ("short_descriptionSTARTSWITHevery", False),
        ("short_descriptionENDSWITHhour", True),
        ("short_descriptionENDSWITHVPN", False),
        ("assigned_toISEMPTY", True),
        ("numberISEMPTY", False),
        ("numberISNOTEMPTY", True),
        ("assigned_toISNOTEMPTY", False),
        ("priority>2", True),
        ("priority>3", False),
        ("priority>=3", True),
        ("priority<3", False),
        ("priority<=3", True),
        ("sys_updated_on>2026-12-02 09:59:59", True),
        ("sys_updated_on>2026-12-02 10:00:00", False),
        ("sys_updated_on>=2026-12-02 10:00:00", True),
        ("sys_updated_on<2026-12-02 10:00:01", True),
        ("caller_idSAMEASopened_by", True),
        ("caller_idNSAMEASopened_by", False),
        ("numberANYTHING", True),
    ],
)
def test_each_operator_matches_as_documented(query: str, expected: bool) -> None:
    """Every supported operator, on a row where it holds and one where it does not."""
    assert matches(query) is expected


def test_values_are_case_sensitive_as_the_documentation_says() -> None:
    assert not matches("short_descriptionLIKEvpn")
    assert not matches("state=In Progress")


def test_numbers_compare_as_numbers_not_text() -> None:
    """ "10" > "9" although "10" sorts before "9" as text."""
    assert matches("count>9", {"count": "10"})
    assert not matches("count<9", {"count": "10"})


def test_an_empty_field_is_neither_greater_nor_smaller() -> None:
    """Like NULL in the database: a comparison with an empty field never holds."""
    assert not matches("resolved_at<2030-01-01 00:00:00", {"resolved_at": ""})
    assert not matches("resolved_at>2000-01-01 00:00:00", {"resolved_at": ""})


def test_caret_is_and() -> None:
    assert matches("active=true^state=2")
    assert not matches("active=true^state=3")


def test_or_binds_only_its_neighbours() -> None:
    """a^b^ORc is a AND (b OR c)."""
    assert matches("active=true^state=3^ORstate=2")
    assert not matches("active=false^state=3^ORstate=2")


def test_nq_starts_an_independent_query() -> None:
    """(a AND b) OR (c AND d): one group is enough."""
    assert matches("active=false^state=2^NQactive=true^priority=3")
    assert not matches("active=false^NQstate=7")


def test_parse_builds_clauses_and_groups() -> None:
    query = parse("active=true^caller_id=a^ORcaller_id=b^NQstate=7")
    assert query.groups == (
        (
            (Condition("active", "=", "true"),),
            (Condition("caller_id", "=", "a"), Condition("caller_id", "=", "b")),
        ),
        ((Condition("state", "=", "7"),),),
    )


def test_orderby_terms_are_read_in_order() -> None:
    query = parse("active=true^ORDERBYpriority^ORDERBYDESCsys_created_on")
    assert query.order == (Ordering("priority"), Ordering("sys_created_on", descending=True))
    assert list(query.conditions()) == [Condition("active", "=", "true")]


def test_sort_uses_every_key_and_keeps_ties_stable() -> None:
    rows = [
        {"n": "a", "p": "2", "t": "2026-01-01 00:00:01"},
        {"n": "b", "p": "1", "t": "2026-01-01 00:00:01"},
        {"n": "c", "p": "2", "t": "2026-01-01 00:00:02"},
        {"n": "d", "p": "10", "t": "2026-01-01 00:00:01"},
    ]
    ordered = parse("ORDERBYp^ORDERBYDESCt").sort(rows, lambda row, field: row[field])
    assert [row["n"] for row in ordered] == ["b", "c", "a", "d"]


def test_dot_walked_fields_are_asked_of_the_reader() -> None:
    asked: list[str] = []

    def value_of(field: str) -> str:
        asked.append(field)
        return "(555) 123-0001"

    assert parse("caller_id.mobile_phone=(555) 123-0001").matches(value_of)
    assert asked == ["caller_id.mobile_phone"]


def test_a_doubled_caret_is_a_literal_caret_in_a_value() -> None:
    query = parse("short_description=up^^down^active=true")
    assert list(query.conditions()) == [
        Condition("short_description", "=", "up^down"),
        Condition("active", "=", "true"),
    ]


def test_terms_that_are_not_conditions_are_set_aside() -> None:
    """The instance ignores the invalid part of a query; the parser says which it was."""
    query = parse("active=true^garbage^EQ")
    assert query.unparsed == ("garbage",)
    assert list(query.conditions()) == [Condition("active", "=", "true")]


def test_the_empty_query_matches_everything() -> None:
    assert matches("")
    assert parse("").groups == ()


def test_keep_drops_conditions_on_refused_fields() -> None:
    """A group emptied by dropping matches every row, as the instance does."""
    query = parse("bogus=1^state=2^NQother=1^ORDERBYbogus").keep(
        lambda f: f not in {"bogus", "other"}
    )
    assert list(query.conditions()) == [Condition("state", "=", "2")]
    assert query.order == ()
    assert query.matches(lambda field: {"state": "7"}.get(field, ""))  # the emptied NQ group


def test_value_may_contain_operators_and_equals_signs() -> None:
    """Only the first operator splits; the rest is the value."""
    assert list(parse("description=a=b!=c").conditions()) == [
        Condition("description", "=", "a=b!=c")
    ]

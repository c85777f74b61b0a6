"""The SCIM filter language (RFC 7644 §3.4.2.2): parse a filter into a small tree, and match it against plain dicts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accessctl.hr_sync.errors import InvalidFilter

COMPARISONS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
Literal = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Compare:
    attr: str
    op: str
    value: Literal


@dataclass(frozen=True, slots=True)
class Present:
    attr: str


@dataclass(frozen=True, slots=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Not:
    inner: Filter


@dataclass(frozen=True, slots=True)
class ValuePath:
    """`emails[type eq "work"]`: a filter over the values of one multi-valued attribute."""

    attr: str
    inner: Filter


Filter = Compare | Present | And | Or | Not | ValuePath

_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<punct>[()\[\]])|(?P<word>[^\s()\[\]"]+))')


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidFilter(f"cannot read the filter at position {position}", field="filter")
        tokens.append(match.group("string") or match.group("punct") or match.group("word"))
        position = match.end()
    return tokens


# Matching and SQL building walk the tree recursively: a filter deeper or longer than this is refused, not a crash.
MAX_NESTING = 32
MAX_TERMS = 256


class _Parser:
    """Recursive descent: `or` binds loosest, then `and`, then `not` and parentheses."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.nesting = 0
        self.terms = 0

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise InvalidFilter(f"the filter nests deeper than {MAX_NESTING} levels", field="filter")

    def term(self) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise InvalidFilter(f"the filter has more than {MAX_TERMS} comparisons", field="filter")

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise InvalidFilter("the filter ends too early", field="filter")
        self.at += 1
        return token

    def expect(self, wanted: str) -> None:
        token = self.take()
        if token != wanted:
            raise InvalidFilter(f"expected {wanted!r} but found {token!r}", field="filter")

    def parse(self) -> Filter:
        node = self.disjunction()
        if self.peek() is not None:
            raise InvalidFilter(f"unexpected {self.peek()!r} in the filter", field="filter")
        return node

    def nested(self, closing: str) -> Filter:
        """What stands between an opening bracket and `closing`."""
        self.enter()
        node = self.disjunction()
        self.expect(closing)
        self.nesting -= 1
        return node

    def disjunction(self) -> Filter:
        node = self.conjunction()
        while (self.peek() or "").lower() == "or":
            self.take()
            node = Or(node, self.conjunction())
        return node

    def conjunction(self) -> Filter:
        node = self.factor()
        while (self.peek() or "").lower() == "and":
            self.take()
            node = And(node, self.factor())
        return node

    def factor(self) -> Filter:
        token = self.take()
        if token == "(":  # noqa: S105 - a filter token, not a secret
            return self.nested(")")
        if token.lower() == "not":
            self.expect("(")
            return Not(self.nested(")"))
        if token in {")", "[", "]"} or token.startswith('"'):
            raise InvalidFilter(f"expected an attribute but found {token!r}", field="filter")
        if self.peek() == "[":
            self.take()
            return ValuePath(token, self.nested("]"))
        self.term()
        op = self.take().lower()
        if op == "pr":
            return Present(token)
        if op not in COMPARISONS:
            raise InvalidFilter(f"unknown operator {op!r}", field="filter")
        return Compare(token, op, _literal(self.take()))


def _literal(token: str) -> Literal:
    if token.startswith('"'):
        try:
            value: str = json.loads(token)
        except json.JSONDecodeError as exc:
            raise InvalidFilter(f"bad string {token}", field="filter") from exc
        return value
    lowered = token.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return int(token) if re.fullmatch(r"-?\d+", token) else float(token)
    except ValueError:
        raise InvalidFilter(f"{token!r} is not a value (strings are quoted)", field="filter") from None


def parse_filter(text: str) -> Filter:
    """Parse a SCIM filter; raises InvalidFilter naming what is wrong."""
    if not text.strip():
        raise InvalidFilter("the filter is empty", field="filter")
    return _Parser(text).parse()


# Matching plain dicts: what PATCH value paths (`emails[type eq "work"]`) select.


def _lookup(obj: dict[str, Any], attr: str) -> Any:
    value: Any = obj
    for part in attr.split("."):
        if not isinstance(value, dict):
            return None
        value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
    return value


def _order(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value.lower()
    return value


def _compare(actual: Any, op: str, expected: Literal) -> bool:
    if isinstance(actual, list):
        return any(_compare(item, op, expected) for item in actual)
    if isinstance(actual, str) and isinstance(expected, str):
        a, e = actual.lower(), expected.lower()
        text_ops = {"eq": a == e, "ne": a != e, "co": e in a, "sw": a.startswith(e), "ew": a.endswith(e)}
        if op in text_ops:
            return text_ops[op]
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if actual is None or expected is None or op in {"co", "sw", "ew"}:
        return False
    try:
        left, right = _order(actual), _order(expected)
        return bool({"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op])
    except TypeError:
        return False


def matches(node: Filter, obj: dict[str, Any]) -> bool:
    """True when `obj` (a value of a multi-valued attribute, or a resource) satisfies the filter."""
    if isinstance(node, And):
        return matches(node.left, obj) and matches(node.right, obj)
    if isinstance(node, Or):
        return matches(node.left, obj) or matches(node.right, obj)
    if isinstance(node, Not):
        return not matches(node.inner, obj)
    if isinstance(node, Present):
        value = _lookup(obj, node.attr)
        return value not in (None, "", [], {})
    if isinstance(node, ValuePath):
        values = _lookup(obj, node.attr)
        return isinstance(values, list) and any(isinstance(v, dict) and matches(node.inner, v) for v in values)
    return _compare(_lookup(obj, node.attr), node.op, node.value)

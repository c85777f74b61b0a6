"""Cursor pagination shared by every list endpoint: `?limit=&cursor=`, answered `{items, next_cursor}`."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

import msgspec

from accessctl.errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str | None) -> Any:
    """The position a cursor points after; None for the first page."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: "[[[[…" nested deep
        raise InvalidInput("cursor is not one this service issued", field="cursor") from None
    if not _storable(position):
        raise InvalidInput("cursor is not one this service issued", field="cursor")
    return position


def _storable(value: Any) -> bool:
    """False for text no database column holds: a NUL (PostgreSQL) or a lone surrogate ("\\ud800", not UTF-8)."""
    if isinstance(value, str):
        return "\x00" not in value and (value.isascii() or _encodes(value))
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    return True


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

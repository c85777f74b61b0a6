"""Text a caller sends, checked before it reaches a query or a row: PostgreSQL's text holds no NUL character, and
refusing one there would answer 500 instead of a 400 naming the field."""

from __future__ import annotations

from accessctl.errors import InvalidInput


def checked_text(value: str, field: str, *, longest: int | None = None) -> str:
    """`value` as it is; a 400 naming `field` when it holds a NUL character or is longer than `longest`."""
    if "\x00" in value:
        raise InvalidInput(f"{field} contains a NUL character", field=field)
    if longest is not None and len(value) > longest:
        raise InvalidInput(f"{field} is longer than {longest} characters", field=field)
    return value

"""URL converters. `<id:...>` accepts only ids a database can hold, so an
absurd id is a 404 like any unknown one, never a database error (500)."""

from __future__ import annotations

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number < 1 or number > MAX_ID:
            raise ValueError("id out of range")
        return number

    def to_url(self, value: int) -> str:
        return str(value)


class TokenConverter:
    regex = "[A-Za-z0-9_-]{20,100}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value

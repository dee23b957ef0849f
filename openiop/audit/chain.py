"""The hash chain behind the audit log. Pure Python, no Django imports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64
FIELDS = (
    "seq",
    "created_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "action",
    "record_type",
    "record_id",
    "program_id",
    "patient_id",
    "detail",
    "client_address",
    "flagged",
    "prev_hash",
)


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the entry's fields in a canonical JSON form."""
    canonical = {name: fields[name] for name in FIELDS}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    entry_id: int | None
    message: str


def verify(entries: Iterable[tuple[int, Mapping[str, Any], str]], head: tuple[int, str] | None) -> ChainProblem | None:
    """Check (id, fields, stored hash) triples in sequence order.

    Returns the first problem, or None when every entry matches its contents,
    links to the one before, no number is missing, and the head (the last
    number and hash recorded separately) matches the last entry."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for entry_id, fields, stored_hash in entries:
        seq = int(fields["seq"])
        if seq != expected_seq:
            return ChainProblem(
                expected_seq, None, f"entry #{expected_seq} is missing (the next entry found is #{seq})"
            )
        if fields["prev_hash"] != expected_prev:
            return ChainProblem(seq, entry_id, f"entry #{seq} does not link to entry #{seq - 1}")
        if entry_hash(fields) != stored_hash:
            return ChainProblem(seq, entry_id, f"entry #{seq} was changed after it was written")
        expected_prev = stored_hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if head is not None and (head[0], head[1]) != (last_seq, expected_prev):
        if head[0] > last_seq:
            return ChainProblem(last_seq + 1, None, f"entries #{last_seq + 1} to #{head[0]} are missing")
        return ChainProblem(last_seq, None, "the chain head does not match the last entry")
    return None

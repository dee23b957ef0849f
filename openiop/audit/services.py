"""Writing to the audit log. The only place AuditEntry rows are created."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone

from openiop.audit import chain, context
from openiop.audit.models import AuditEntry, AuditHead

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.intake.models import Patient


def record(
    action: str,
    *,
    actor: User | None,
    record: models.Model | None = None,
    record_type: str | None = None,
    record_id: str | int | None = None,
    patient: Patient | None = None,
    program_id: int | None = None,
    detail: dict[str, Any] | None = None,
    flagged: bool = False,
) -> AuditEntry:
    """Append one entry to the audit log, inside the caller's transaction.

    A write's entry commits or rolls back with the write itself; a read's
    entry commits at once (reads run in autocommit)."""
    if record is not None:
        record_type = record_type or record._meta.label_lower
        record_id = record.pk
    if not record_type:
        raise ValueError("An audit entry needs a record or a record_type.")
    if program_id is None:
        if patient is not None:
            program_id = patient.program_id
        elif actor is not None:
            program_id = actor.program_id
    return _append(
        [
            _fields(action, actor, record_type, record_id, program_id, patient, detail or {}, flagged),
        ]
    )[0]


def record_reads_of_list(actor: User, patients: list[Patient], *, purpose: str) -> None:
    """A page listing patients is a read of each: one entry per patient, so the
    record's own audit trail shows it, appended together under one lock."""
    _append(
        [
            _fields(
                "read", actor, "intake.patient", patient.pk, patient.program_id, patient, {"purpose": purpose}, False
            )
            for patient in patients
        ]
    )


def _fields(
    action: str,
    actor: User | None,
    record_type: str,
    record_id: str | int | None,
    program_id: int | None,
    patient: Patient | None,
    detail: dict[str, Any],
    flagged: bool,
) -> dict[str, Any]:
    authenticated = actor is not None and actor.is_authenticated
    return {
        "created_at": timezone.now(),
        "actor_id": actor.pk if authenticated and actor else None,
        "actor_username": actor.get_username() if authenticated and actor else "",
        "actor_role": getattr(actor, "role", "") if authenticated else "",
        "action": action,
        "record_type": record_type,
        "record_id": "" if record_id is None else str(record_id),
        "program_id": program_id,
        "patient_id": patient.pk if patient is not None else None,
        "detail": detail,
        "client_address": context.get().client_address,
        "flagged": flagged,
    }


def _append(pending: list[dict[str, Any]]) -> list[AuditEntry]:
    """Chain the entries onto the log under the head's lock."""
    if not pending:
        return []
    with transaction.atomic():
        return _chain_onto(_locked_head(), pending)


def _chain_onto(head: AuditHead, pending: list[dict[str, Any]]) -> list[AuditEntry]:
    """Number and link `pending` after the (locked) head, insert, move the head."""
    entries: list[AuditEntry] = []
    seq, prev_hash = head.last_seq, head.last_hash
    for fields in pending:
        seq += 1
        fields = {**fields, "seq": seq, "prev_hash": prev_hash}
        entry = AuditEntry(**fields, hash=chain.entry_hash(serialize(fields)))
        prev_hash = entry.hash
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries)
    head.last_seq, head.last_hash = seq, prev_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return entries


def _locked_head() -> AuditHead:
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # The migration creates the head; a test database flushed between
        # tests loses it with every entry. If entries remain, someone removed
        # the head: carry on from the last entry (so the log keeps working),
        # and say so in a flagged entry, which verify_audit reports.
        last = AuditEntry.objects.order_by("-seq").first()
        AuditHead.objects.get_or_create(
            pk=1,
            defaults={
                "last_seq": last.seq if last else 0,
                "last_hash": last.hash if last else chain.GENESIS_HASH,
            },
        )
        head = AuditHead.objects.select_for_update().get(pk=1)
        if last is not None:
            rebuilt = _fields(
                "update", None, "audit.audithead", 1, None, None, {"head": "rebuilt", "after_seq": last.seq}, True
            )
            _chain_onto(head, [rebuilt])
    return head


def serialize(fields: dict[str, Any]) -> dict[str, Any]:
    """The values as hashed: timestamps as UTC ISO text."""
    out = dict(fields)
    created_at = out["created_at"]
    out["created_at"] = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return out


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    return serialize({name: getattr(entry, name) for name in chain.FIELDS})


def record_api_reads(
    client_label: str, program_id: int, reads: list[tuple[str, str, int | None]], *, detail: dict[str, Any]
) -> None:
    """An integration (not a person) read these records over the API: one entry per (type, id, patient)."""
    now = timezone.now()
    address = context.get().client_address
    _append(
        [
            {
                "created_at": now,
                "actor_id": None,
                "actor_username": client_label[:150],
                "actor_role": "api",
                "action": "read",
                "record_type": record_type[:60],
                "record_id": record_id,
                "program_id": program_id,
                "patient_id": patient_id,
                "detail": detail,
                "client_address": address,
                "flagged": False,
            }
            for record_type, record_id, patient_id in reads
        ]
    )

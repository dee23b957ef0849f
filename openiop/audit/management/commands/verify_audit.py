from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from openiop.audit import chain
from openiop.audit.models import AuditEntry, AuditHead
from openiop.audit.services import entry_fields


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit 1 naming the first broken entry."

    def handle(self, *args: Any, **options: Any) -> None:
        head_row = AuditHead.objects.filter(pk=1).first()
        if head_row is None and AuditEntry.objects.exists():
            self.stderr.write("Audit chain broken: the chain head (audit_audithead) is missing.")
            sys.exit(1)
        head = (head_row.last_seq, head_row.last_hash) if head_row else None
        entries = (
            (entry.pk, entry_fields(entry), entry.hash)
            for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000)
        )
        problem = chain.verify(entries, head)
        if problem is not None:
            where = f" (row id {problem.entry_id})" if problem.entry_id is not None else ""
            self.stderr.write(f"Audit chain broken: {problem.message}{where}.")
            sys.exit(1)
        rebuilt = AuditEntry.objects.filter(record_type="audit.audithead", detail__head="rebuilt").first()
        if rebuilt is not None:
            self.stderr.write(
                f"Audit chain broken: its head was removed and rebuilt at entry #{rebuilt.seq} "
                f"({rebuilt.created_at:%Y-%m-%d %H:%M}); entries after #{rebuilt.detail['after_seq']} "
                "may have been removed with it."
            )
            sys.exit(1)
        count = head[0] if head else 0
        self.stdout.write(f"Audit chain intact: {count} {'entry' if count == 1 else 'entries'}.")

"""Email patients whose follow-up check-in after discharge is due (run daily, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiop.treatment.services import remind_due_check_ins


class Command(BaseCommand):
    help = "Queue one reminder email for each follow-up check-in that is due and not yet answered or reminded."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"check-ins: {remind_due_check_ins()} reminded")

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiop.rooms import services


class Command(BaseCommand):
    help = "End sessions that nobody ended (an hour after their scheduled end) and record their attendance."

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.finish_overdue_sessions()
        self.stdout.write(f"Finished {count} session(s).")

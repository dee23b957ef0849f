from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openiop.portal import reminders


class Command(BaseCommand):
    help = "Send session reminders that are due (the day before, an hour before). Safe to run as often as you like."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep running, checking every --interval seconds")
        parser.add_argument("--interval", type=int, default=300)

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            outcome = reminders.send_due()
            self.stdout.write(
                f"reminders sent: {outcome.sent}, already sent: {outcome.skipped}, failed: {outcome.failed}"
            )
            if not options["loop"]:
                return
            time.sleep(max(10, options["interval"]))

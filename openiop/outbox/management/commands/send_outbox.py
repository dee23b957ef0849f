"""Send queued email; with --loop, keep doing so (the background worker)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from openiop.outbox.services import deliver_due


class Command(BaseCommand):
    help = "Send email waiting in the outbox (retries with back-off). Use --loop to run as a worker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep running, checking every --interval seconds")
        parser.add_argument("--interval", type=float, default=15.0, help="seconds between checks with --loop")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            self.stderr.write("--interval must be more than 0")
            raise SystemExit(2)
        while True:
            sent, waiting = deliver_due()
            if sent or waiting or not options["loop"]:
                self.stdout.write(f"outbox: {sent} sent, {waiting} still waiting")
            if not options["loop"]:
                return
            time.sleep(options["interval"])

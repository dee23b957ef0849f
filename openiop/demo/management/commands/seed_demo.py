from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings
from django.utils import timezone

from openiop.demo.builder import DemoAlreadyLoaded, build_demo_program
from openiop.outbox.models import MessageStatus, OutboxMessage

ROLE_LABELS = [
    ("director", "program director: program overview, patients, people, audit log"),
    ("intake", "intake coordinator: people coming in"),
    ("clinician", "clinicians: caseload and groups"),
    ("patient", "patients: Today"),
    ("family", "family members / support people: what the patient shared"),
]


class Command(BaseCommand):
    help = "Load the synthetic demo program (made-up people only) into an empty database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=60, help="how many patients (default 60)")
        parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same program")

    def handle(self, *args: Any, patients: int, seed: int, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo makes accounts with a known password: it does not run in production mode.")
        if patients < 1 or patients > 200_000:
            raise CommandError("--patients must be between 1 and 200000.")
        started = time.monotonic()
        stages = ["people and enrollments", "measures", "referrals", "public page and portal",
                  "treatment plans and notes", "weekly schedule", "video rooms and attendance", "done"]  # fmt: skip
        width = 28

        def progress(stage: str, part: float = 0.0, detail: str = "") -> None:
            done = (stages.index(stage) if stage in stages else 0) + min(max(part, 0.0), 1.0)
            filled = int(width * done / (len(stages) - 1))
            bar = "#" * filled + "-" * (width - filled)
            label = f"{stage}: {detail}" if detail else stage
            self.stderr.write(f"  [{bar}] {time.monotonic() - started:6.1f} s  {label}")

        try:
            # The demo's own notices (schedule published, invitations) go to made-up addresses: keep them in the
            # outbox, marked as not sent, instead of printing hundreds of emails while the demo loads.
            with override_settings(OUTBOX_SEND_ON_COMMIT=False):
                summary = build_demo_program(
                    patients=patients, seed=seed, password=settings.DEMO_PASSWORD, progress=progress
                )
            OutboxMessage.objects.filter(status=MessageStatus.PENDING, program=summary.program).update(
                status=MessageStatus.SENT, sent_at=timezone.now(), body="", last_error="demo data: not sent"
            )
        except DemoAlreadyLoaded:
            raise CommandError(
                "The demo program is already loaded in this database. `make demo` starts from a fresh one."
            ) from None
        self.stdout.write(
            f"Loaded {summary.program.name}: {summary.patients} patients, {summary.clinicians} clinicians, "
            f"{summary.family_members} family members in {time.monotonic() - started:.1f} s."
        )
        self.stdout.write("Demo sign-ins (one password for all, OPENIOP_DEMO_PASSWORD):")
        for role, label in ROLE_LABELS:
            names = summary.usernames[role]
            if names:
                shown = names[0] if len(names) == 1 else f"{names[0]} ... {names[-1]}"
                self.stdout.write(f"  {shown:<28} {label}")

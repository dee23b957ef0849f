"""Queue one reminder email per due measure (run daily, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.measures import queries, services


class Command(BaseCommand):
    help = "Queue a reminder email (through the outbox) for each measure due today that has not had one."

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        queued = 0
        enrollments = (
            Enrollment.objects.filter(
                status=EnrollmentStatus.ACTIVE, patient__user__isnull=False, track__measure_schedules__isnull=False
            )
            .select_related("patient", "patient__user", "patient__program")
            .distinct()
        )
        for enrollment in enrollments:
            for due in queries.due_measures(enrollment.patient, enrollment, today):
                if services.queue_reminder(
                    patient=enrollment.patient, questionnaire=due.questionnaire, due_date=due.due_date
                ):
                    queued += 1
        self.stdout.write(f"Queued {queued} reminder(s).")

"""Run FHIR bulk exports that are waiting (after a restart, or with background threads switched off)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from openiop.fhirapi.models import ExportJob, ExportStatus
from openiop.fhirapi.services import run_export


class Command(BaseCommand):
    help = "Write the NDJSON files of every accepted FHIR $export job."

    def handle(self, *args: Any, **options: Any) -> None:
        for job_id in ExportJob.objects.filter(status=ExportStatus.ACCEPTED).values_list("pk", flat=True):
            job = run_export(job_id)
            if job is not None:
                self.stdout.write(f"export {job.pk}: {job.status}")

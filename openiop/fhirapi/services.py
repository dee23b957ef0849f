"""Writes for the FHIR API: integrations (created and revoked by a director) and bulk exports."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.accounts.models import User
from openiop.audit import services as audit
from openiop.core.errors import ServiceError
from openiop.fhirapi import part2
from openiop.fhirapi.models import ApiClient, ExportJob, ExportStatus
from openiop.fhirapi.resources import PROVIDERS, Context, patients_of

log = logging.getLogger(__name__)
CHUNK = 2000


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    token: str  # shown once


def create_client(director: User, *, name: str, scopes: list[str]) -> NewClient:
    unknown = [
        scope
        for scope in scopes
        if scope != "system/*.read" and scope.removeprefix("system/").removesuffix(".read") not in PROVIDERS
    ]
    if not scopes or unknown:
        raise ServiceError(_("Choose at least one known scope."))
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ApiClient.objects.create(
            program_id=director.program_pk,
            name=name,
            client_id=secrets.token_hex(8),
            secret_sha256=_sha256(secret),
            scopes=sorted(set(scopes)),
            created_by=director,
        )
        audit.record("create", actor=director, record=client, detail={"name": name, "scopes": client.scopes})
    return NewClient(client=client, token=f"{client.client_id}.{secret}")


def revoke_client(director: User, client: ApiClient) -> None:
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().get(pk=client.pk)
        if not client.active:
            raise ServiceError(_("This integration was already revoked."))
        client.active = False
        client.revoked_at = timezone.now()
        client.save(update_fields=["active", "revoked_at"])
        audit.record("update", actor=director, record=client, detail={"revoked": True})


def client_for_token(token: str) -> ApiClient | None:
    client_id, _dot, secret = token.partition(".")
    if not client_id or not secret:
        return None
    client = ApiClient.objects.filter(client_id=client_id, active=True).select_related("program").first()
    if client is None or not hmac.compare_digest(client.secret_sha256, _sha256(secret)):
        return None
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


# --- Bulk Data $export ----------------------------------------------------------------------------------------


def export_dir(job: ExportJob) -> Path:
    return Path(settings.VAR_DIR) / "exports" / str(job.pk)


def start_export(client: ApiClient, *, types: list[str], since: datetime | None, request_url: str) -> ExportJob:
    with transaction.atomic():
        job = ExportJob.objects.create(client=client, resource_types=types, since=since, request_url=request_url[:500])
        audit.record(
            "create",
            actor=None,
            record=job,
            program_id=client.program_id,
            detail={"api_client": client.client_id, "types": types},
        )
    if settings.FHIR_EXPORT_IN_BACKGROUND:
        transaction.on_commit(lambda: threading.Thread(target=_run_in_thread, args=(job.pk,), daemon=True).start())
    return job


def _run_in_thread(job_id: int) -> None:
    try:
        run_export(job_id)
    finally:
        close_old_connections()


def run_export(job_id: int) -> ExportJob | None:
    """Write the NDJSON files of one accepted job. Returns None if someone else has it or it is gone."""
    if not ExportJob.objects.filter(pk=job_id, status=ExportStatus.ACCEPTED).update(
        status=ExportStatus.RUNNING, started_at=timezone.now()
    ):
        return None
    job = ExportJob.objects.select_related("client__program").get(pk=job_id)
    try:
        _write_files(job)
    except Exception as error:
        log.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=str(error)[:500])
        job.refresh_from_db()
    return job


def _write_files(job: ExportJob) -> None:
    client, program = job.client, job.client.program
    context = Context(withheld=part2.withheld_patient_ids(program, client))
    folder = export_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = []
    patients_seen: set[int] = set()
    for index, resource_type in enumerate(job.resource_types):
        provider = PROVIDERS[resource_type]
        rows = provider.rows(program)
        rows = provider.disclosable(rows, context)
        if job.since is not None and provider.updated_field:
            rows = rows.filter(**{f"{provider.updated_field}__gte": job.since})
        count = 0
        with (folder / f"{resource_type}.ndjson").open("w", encoding="utf-8") as out:
            chunk: list[Model] = []
            for row in rows.iterator(chunk_size=CHUNK):
                out.write(json.dumps(provider.to_fhir(row, context), separators=(",", ":")) + "\n")
                chunk.append(row)
                count += 1
                if len(chunk) >= CHUNK:
                    patients_seen.update(p for ids in patients_of(provider, chunk).values() for p in ids)
                    chunk = []
            patients_seen.update(p for ids in patients_of(provider, chunk).values() for p in ids)
        outputs.append({"type": resource_type, "count": count})
        if ExportJob.objects.filter(pk=job.pk, status=ExportStatus.CANCELLED).exists():
            shutil.rmtree(folder, ignore_errors=True)
            return
        ExportJob.objects.filter(pk=job.pk).update(progress=int(100 * (index + 1) / len(job.resource_types)))
    with transaction.atomic():
        audit.record_api_reads(
            f"api:{client.client_id}",
            program.pk,
            [("intake.patient", str(pk), pk) for pk in sorted(patients_seen - context.withheld)],
            detail={"purpose": "fhir-bulk-export", "export": job.pk},
        )
        ExportJob.objects.filter(pk=job.pk).exclude(status=ExportStatus.CANCELLED).update(
            status=ExportStatus.COMPLETE, progress=100, outputs=outputs, completed_at=timezone.now()
        )


def cancel_export(job: ExportJob) -> None:
    with transaction.atomic():
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED)
        audit.record("update", actor=None, record=job, program_id=job.client.program_id, detail={"cancelled": True})
    shutil.rmtree(export_dir(job), ignore_errors=True)

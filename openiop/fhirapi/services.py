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
from typing import TextIO

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.accounts.models import User
from openiop.audit import services as audit
from openiop.core.errors import ServiceError
from openiop.fhirapi import part2
from openiop.fhirapi.models import ApiClient, ExportJob, ExportStatus, Purpose
from openiop.fhirapi.resources import PROVIDERS, Provider, patients_of

log = logging.getLogger(__name__)
CHUNK = 2000


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    token: str  # shown once


def create_client(
    director: User,
    *,
    name: str,
    scopes: list[str],
    recipient_name: str = "",
    purposes: list[str] | None = None,
    receives_part2: bool = False,
) -> NewClient:
    """A new integration and its key. Its recipient identity (organization, purposes) is what a Part 2
    consent names; `receives_part2` offers it on the Part 2 consent at intake."""
    unknown = [
        scope
        for scope in scopes
        if scope != "system/*.read" and scope.removeprefix("system/").removesuffix(".read") not in PROVIDERS
    ]
    if not scopes or unknown:
        raise ServiceError(_("Choose at least one known scope."))
    recipient_name = " ".join(recipient_name.split())
    purposes = sorted(set(purposes or []))
    if any(purpose not in Purpose.values for purpose in purposes):
        raise ServiceError(_("Choose the purposes from the list."))
    if receives_part2 and (not recipient_name or not purposes):
        raise ServiceError(
            _("An integration that may receive 42 CFR Part 2 records needs the organization's name and its purposes.")
        )
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        if (
            receives_part2
            and part2.offered_recipients(director.program_pk).filter(recipient_name__iexact=recipient_name).exists()
        ):
            raise ServiceError(
                _(
                    "Another active integration already receives Part 2 records as %(name)s; patients could not "
                    "tell them apart. Revoke it first or name this one differently."
                )
                % {"name": recipient_name}
            )
        client = ApiClient.objects.create(
            program_id=director.program_pk,
            name=name,
            client_id=secrets.token_hex(8),
            secret_sha256=_sha256(secret),
            scopes=sorted(set(scopes)),
            recipient_name=recipient_name,
            purposes=purposes,
            receives_part2=receives_part2,
            created_by=director,
        )
        audit.record(
            "create",
            actor=director,
            record=client,
            detail={
                "name": name,
                "scopes": client.scopes,
                "recipient": recipient_name,
                "purposes": purposes,
                "receives_part2": receives_part2,
            },
        )
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
    context = part2.context_for(program, client)
    folder = export_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = []
    patients_seen: set[int] = set()

    def write(out: TextIO, provider: Provider, chunk: list[Model]) -> None:
        about = patients_of(provider, chunk)
        for resource in part2.disclose(provider, chunk, about, context):
            out.write(json.dumps(resource, separators=(",", ":")) + "\n")
        patients_seen.update(patient for ids in about.values() for patient in ids)

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
                chunk.append(row)
                count += 1
                if len(chunk) >= CHUNK:
                    write(out, provider, chunk)
                    chunk = []
            write(out, provider, chunk)
        outputs.append({"type": resource_type, "count": count})
        if ExportJob.objects.filter(pk=job.pk, status=ExportStatus.CANCELLED).exists():
            shutil.rmtree(folder, ignore_errors=True)
            return
        ExportJob.objects.filter(pk=job.pk).update(progress=int(100 * (index + 1) / len(job.resource_types)))
    exported = patients_seen - context.withheld
    detail = {"purpose": "fhir-bulk-export", "export": job.pk}
    with transaction.atomic():
        label = f"api:{client.client_id}"
        audit.record_api_reads(
            label,
            program.pk,
            [("intake.patient", str(pk), pk) for pk in sorted(exported - context.part2)],
            detail=detail,
        )
        if disclosed_part2 := sorted(exported & context.part2):
            audit.record_api_reads(
                label,
                program.pk,
                [("intake.patient", str(pk), pk) for pk in disclosed_part2],
                detail=detail
                | {
                    "part2_consents": sorted({context.part2_consents[pk] for pk in disclosed_part2}),
                    "recipient": client.recipient_name,
                },
            )
        ExportJob.objects.filter(pk=job.pk).exclude(status=ExportStatus.CANCELLED).update(
            status=ExportStatus.COMPLETE, progress=100, outputs=outputs, completed_at=timezone.now()
        )


def cancel_export(job: ExportJob) -> None:
    with transaction.atomic():
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.CANCELLED)
        audit.record("update", actor=None, record=job, program_id=job.client.program_id, detail={"cancelled": True})
    shutil.rmtree(export_dir(job), ignore_errors=True)

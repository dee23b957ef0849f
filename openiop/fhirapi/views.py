"""The FHIR R4 REST API (read, search, CapabilityStatement, Bulk Data $export) and the director's
Integrations page. API requests authenticate with a per-integration bearer token, never a session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import EmptyPage, Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Role
from openiop.audit import services as audit
from openiop.core.errors import ServiceError
from openiop.fhirapi import part2, services
from openiop.fhirapi.forms import ClientForm
from openiop.fhirapi.models import ApiClient, ExportJob, ExportStatus
from openiop.fhirapi.resources import PROVIDERS, Context, SearchError, patients_of, reference_id, resource_types

FHIR_JSON = "application/fhir+json"
MAX_COUNT = 500
DEFAULT_COUNT = 50
View = Callable[..., HttpResponse | FileResponse]


def outcome(status: int, message: str, code: str = "invalid") -> JsonResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    response = JsonResponse(body, status=status, content_type=FHIR_JSON)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="openiop-fhir"'
    return response


def fhir_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, content_type=FHIR_JSON, json_dumps_params={"separators": (",", ":")})


def api(view: View) -> View:
    """Authenticate the integration; every failure is an OperationOutcome, never a page."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | FileResponse:
        header = request.headers.get("Authorization", "")
        scheme, _space, token = header.partition(" ")
        client = services.client_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if client is None:
            return outcome(401, "A valid bearer token for an active integration is required.", "login")
        return view(request, client, *args, **kwargs)

    return wrapper


def _provider(client: ApiClient, resource_type: str) -> Any:
    provider = PROVIDERS.get(resource_type)
    if provider is None:
        raise _NotServed(outcome(404, f"The resource type '{resource_type}' is not served here.", "not-supported"))
    if not client.allows(resource_type):
        raise _NotServed(outcome(403, f"This integration has no scope for {resource_type}.", "forbidden"))
    return provider


class _NotServed(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _audit(
    client: ApiClient, provider: Any, rows: list[Any], about: dict[int, list[int]], context: Context, purpose: str
) -> None:
    """One `read` entry per (resource, patient it is about). Withheld patients were not disclosed (a group
    Appointment leaves without them), so they get no entry; Part 2 disclosures name the consent behind them."""
    reads: list[tuple[str, str, int | None]] = []
    part2_reads: list[tuple[str, str, int | None]] = []
    for row in rows:
        patient_ids = [patient for patient in about.get(row.pk, []) if patient not in context.withheld]
        if not patient_ids:
            reads.append((f"fhir:{provider.type}", str(row.pk), None))
        for patient_id in patient_ids:
            read = (f"fhir:{provider.type}", str(row.pk), patient_id)
            (part2_reads if patient_id in context.part2 else reads).append(read)
    detail: dict[str, Any] = {"purpose": purpose, "integration": client.name}
    label = f"api:{client.client_id}"
    if reads:
        audit.record_api_reads(label, client.program_id, reads, detail=detail)
    if part2_reads:
        consents = sorted({context.part2_consents[patient] for _type, _id, patient in part2_reads if patient})
        audit.record_api_reads(
            label,
            client.program_id,
            part2_reads,
            detail=detail | {"part2_consents": consents, "recipient": client.recipient_name},
        )


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: public, as FHIR asks."""
    base = settings.SITE_URL + "/fhir"
    resources = [
        {
            "type": name,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {
                    "name": param,
                    "type": "date"
                    if param in {"date", "birthdate"}
                    else "token"
                    if param in {"_id", "identifier"}
                    else "reference"
                    if param in {"patient", "subject", "actor"}
                    else "string",
                }
                for param in sorted(PROVIDERS[name].search)
            ],
        }
        for name in resource_types()
    ]
    return fhir_response(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": timezone.now().date().isoformat(),
            "publisher": "OpenIOP",
            "kind": "instance",
            "software": {"name": "OpenIOP"},
            "implementation": {"description": "OpenIOP FHIR R4 API", "url": base},
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "service": [{"text": "Bearer token issued per integration by the program director"}],
                        "description": "Per-integration bearer tokens with system/<Type>.read scopes.",
                    },
                    "resource": resources,
                    "operation": [
                        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
                    ],
                }
            ],
        }
    )


@require_GET
@api
def read(request: HttpRequest, client: ApiClient, resource_type: str, resource_id: int) -> HttpResponse:
    try:
        provider = _provider(client, resource_type)
    except _NotServed as refused:
        return refused.response
    context = part2.context_for(client.program, client)
    rows = provider.rows(client.program)
    rows = provider.disclosable(rows, context)
    row = rows.filter(pk=resource_id).first()
    if row is None:  # absent, another program's, or withheld under Part 2: the same answer
        return outcome(404, f"{resource_type}/{resource_id} is not known.", "not-found")
    about = patients_of(provider, [row])
    _audit(client, provider, [row], about, context, "fhir-read")
    return fhir_response(part2.disclose(provider, [row], about, context)[0])


RESULT_PARAMS = {"_count", "_page", "_format"}
PATIENT_PARAMS = {"patient", "subject", "actor"}


@require_GET
@api
def search(request: HttpRequest, client: ApiClient, resource_type: str) -> HttpResponse:
    try:
        provider = _provider(client, resource_type)
    except _NotServed as refused:
        return refused.response
    context = part2.context_for(client.program, client)
    rows = provider.rows(client.program)
    rows = provider.disclosable(rows, context)
    unknown = sorted(set(request.GET) - set(provider.search) - RESULT_PARAMS)
    if unknown:
        return outcome(
            400, f"Unsupported search parameter(s) for {resource_type}: {', '.join(unknown)}.", "not-supported"
        )
    try:
        for param, searcher in provider.search.items():
            for value in request.GET.getlist(param):
                rows = searcher(rows, value)
                if param in PATIENT_PARAMS and reference_id(value, "Patient") in context.withheld:
                    rows = rows.none()  # asking about a withheld patient reveals nothing, not even a group
        count = int(request.GET.get("_count", DEFAULT_COUNT))
        page_number = int(request.GET.get("_page", 1))
    except SearchError as error:
        return outcome(400, str(error))
    except ValueError:
        return outcome(400, "_count and _page must be whole numbers.")
    if not 1 <= count <= MAX_COUNT or page_number < 1:
        return outcome(400, f"_count must be 1–{MAX_COUNT} and _page at least 1.")
    paginator = Paginator(rows.distinct(), count)
    try:
        page = paginator.page(page_number)
    except EmptyPage:
        page = None
    found = list(page.object_list) if page is not None else []
    about = patients_of(provider, found)
    _audit(client, provider, found, about, context, "fhir-search")
    disclosed = part2.disclose(provider, found, about, context)
    base = f"{settings.SITE_URL}/fhir/{resource_type}"
    query = request.GET.copy()
    links = [{"relation": "self", "url": f"{base}?{query.urlencode()}"}]
    if page is not None and page.has_next():
        query["_page"] = str(page_number + 1)
        links.append({"relation": "next", "url": f"{base}?{query.urlencode()}"})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": paginator.count,
        "link": links,
        "entry": [
            {"fullUrl": f"{base}/{row.pk}", "resource": resource, "search": {"mode": "match"}}
            for row, resource in zip(found, disclosed, strict=True)
        ],
    }
    if any(part2.about_part2(about.get(row.pk, ()), context) for row in found):
        bundle["meta"] = {"security": [dict(coding) for coding in part2.SECURITY_LABELS]}
    return fhir_response(bundle)


@require_GET
@api
def export(request: HttpRequest, client: ApiClient) -> HttpResponse:
    if request.headers.get("Prefer", "").strip().lower() != "respond-async":
        return outcome(400, "Bulk export needs the header 'Prefer: respond-async'.")
    if request.GET.get("_outputFormat", "application/fhir+ndjson") not in {
        "application/fhir+ndjson",
        "application/ndjson",
        "ndjson",
    }:
        return outcome(400, "Only NDJSON output is offered.", "not-supported")
    unknown = sorted(set(request.GET) - {"_type", "_since", "_outputFormat"})
    if unknown:
        return outcome(400, f"Unsupported export parameter(s): {', '.join(unknown)}.", "not-supported")
    wanted = [name for name in request.GET.get("_type", "").split(",") if name] or [
        name for name in resource_types() if client.allows(name)
    ]
    for name in wanted:
        try:
            _provider(client, name)
        except _NotServed as refused:
            return refused.response
    since: datetime | None = None
    if "_since" in request.GET:
        since = parse_datetime(request.GET["_since"])
        if since is None or since.tzinfo is None:
            return outcome(400, "_since must be an instant with a time zone, e.g. 2026-11-01T00:00:00Z.")
    if not wanted:
        return outcome(403, "This integration has no scope for any resource type.", "forbidden")
    job = services.start_export(client, types=wanted, since=since, request_url=request.build_absolute_uri())
    response = HttpResponse(status=202)
    response["Content-Location"] = f"{settings.SITE_URL}/fhir/$export-status/{job.pk}"
    return response


def _job(client: ApiClient, job_id: int) -> ExportJob:
    job = ExportJob.objects.filter(pk=job_id, client=client).select_related("client").first()
    if job is None:
        raise Http404
    return job


@require_http_methods(["GET", "DELETE"])
@api
def export_status(request: HttpRequest, client: ApiClient, job_id: int) -> HttpResponse:
    try:
        job = _job(client, job_id)
    except Http404:
        return outcome(404, "No such export.", "not-found")
    if request.method == "DELETE":
        if job.status == ExportStatus.CANCELLED:
            return outcome(404, "No such export.", "not-found")
        services.cancel_export(job)
        return HttpResponse(status=202)
    if job.status == ExportStatus.CANCELLED:
        return outcome(404, "This export was cancelled.", "not-found")
    if job.status == ExportStatus.FAILED:
        return outcome(500, f"The export failed: {job.error}", "exception")
    if job.status != ExportStatus.COMPLETE:
        response = HttpResponse(status=202)
        response["X-Progress"] = f"{job.progress}% ({job.get_status_display()})"
        response["Retry-After"] = "2"
        return response
    base = f"{settings.SITE_URL}/fhir/$export-file/{job.pk}"
    return JsonResponse(
        {
            "transactionTime": (job.started_at or job.requested_at).isoformat(),
            "request": job.request_url,
            "requiresAccessToken": True,
            "output": [
                {"type": out["type"], "url": f"{base}/{out['type']}.ndjson", "count": out["count"]}
                for out in job.outputs
            ],
            "error": [],
        }
    )


@require_GET
@api
def export_file(
    request: HttpRequest, client: ApiClient, job_id: int, resource_type: str
) -> HttpResponse | FileResponse:
    try:
        job = _job(client, job_id)
    except Http404:
        return outcome(404, "No such export.", "not-found")
    path = services.export_dir(job) / f"{resource_type}.ndjson"
    if job.status != ExportStatus.COMPLETE or resource_type not in job.resource_types or not path.exists():
        return outcome(404, "No such export file.", "not-found")
    return FileResponse(path.open("rb"), content_type="application/fhir+ndjson")


# --- the director's Integrations page -------------------------------------------------------------------------


@role_required(Role.DIRECTOR)
@require_http_methods(["GET", "POST"])
def integrations(request: HttpRequest) -> HttpResponse:
    director = acting_person(request)
    form = ClientForm(request.POST or None)
    token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                data = form.cleaned_data
                created = services.create_client(
                    director,
                    name=data["name"],
                    scopes=data["scopes"],
                    recipient_name=data["recipient_name"],
                    purposes=data["purposes"],
                    receives_part2=data["receives_part2"],
                )
            except ServiceError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                token = created.token
                form = ClientForm()
        else:
            status = 400
    clients = ApiClient.objects.filter(program_id=director.program_pk)
    return render(
        request,
        "fhirapi/integrations.html",
        {"clients": clients, "form": form, "token": token, "base_url": settings.SITE_URL + "/fhir"},
        status=status,
    )


@role_required(Role.DIRECTOR)
@require_POST
def revoke(request: HttpRequest, client_id: int) -> HttpResponse:
    director = acting_person(request)
    client = ApiClient.objects.filter(pk=client_id, program_id=director.program_pk).first()
    if client is None:
        raise Http404
    try:
        services.revoke_client(director, client)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The integration can no longer read anything."))
    return redirect("fhirapi:integrations")

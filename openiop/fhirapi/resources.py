"""FHIR R4 shapes of OpenIOP records (Patient, Practitioner, CareTeam, Appointment, Encounter here; other
apps register theirs), and how each resource type is searched.

Each resource type the API serves is a `Provider`: the rows of a program, how one row becomes a FHIR
resource (a plain dict that validates against `fhir.resources.R4B`), which patients a row is about (for the
audit log and 42 CFR Part 2), and its search parameters. Apps add their own types with `register`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from openiop.accounts.models import STAFF_ROLES, Program, User
from openiop.intake.models import CareTeamMember, Patient
from openiop.rooms.models import Attendance, AttendanceStatus, PresenceEvent
from openiop.scheduling.models import Session, SessionAttendee, SessionKind, SessionStatus

FhirDict = dict[str, Any]


class SearchError(ValueError):
    """A search the API cannot answer; the message names the parameter."""


@dataclass(frozen=True)
class Context:
    """What a mapping needs besides the row, decided per integration by `part2.context_for`: the patients
    that may not leave, and the Part 2 patients that may (with the consent that lets each one leave)."""

    withheld: frozenset[int] = frozenset()
    part2: frozenset[int] = frozenset()
    part2_consents: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Provider:
    type: str
    rows: Callable[[Program], QuerySet[Any]]
    to_fhir: Callable[[Any, Context], FhirDict]
    patient_path: str | None  # ORM path from a row to its patient's id; None for non-patient resources
    search: dict[str, Callable[[QuerySet[Any], str], QuerySet[Any]]] = field(default_factory=dict)
    updated_field: str | None = None  # for the Bulk Data `_since` parameter
    # Rows that may leave when `withheld` patients may not. Default: drop rows about a withheld patient.
    withhold: Callable[[QuerySet[Any], frozenset[int]], QuerySet[Any]] | None = None

    def disclosable(self, rows: QuerySet[Any], context: Context) -> QuerySet[Any]:
        if self.patient_path is None or not context.withheld:
            return rows
        if self.withhold is not None:
            return self.withhold(rows, context.withheld)
        return rows.exclude(**{f"{self.patient_path}__in": context.withheld})


PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    PROVIDERS[provider.type] = provider


def system(kind: str, program: Program) -> str:
    return f"{settings.SITE_URL}/fhir/sid/{kind}/{program.slug}"


# --- search helpers -----------------------------------------------------------------------------------

_DATE = re.compile(r"^(eq|ne|lt|gt|le|ge|sa|eb)?(\d{4}-\d{2}-\d{2})$")


def reference_id(value: str, resource_type: str) -> int:
    """`123` or `Patient/123` → 123."""
    raw = value.removeprefix(f"{resource_type}/")
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise SearchError(f"'{value}' is not a {resource_type} reference")
    return int(raw)


def by_patient(path: str) -> Callable[[QuerySet[Any], str], QuerySet[Any]]:
    def search(rows: QuerySet[Any], value: str) -> QuerySet[Any]:
        return rows.filter(**{path: reference_id(value, "Patient")})

    return search


def by_date(path: str, *, is_datetime: bool) -> Callable[[QuerySet[Any], str], QuerySet[Any]]:
    """FHIR date search with the prefixes eq, lt, gt, le, ge (day precision)."""

    def search(rows: QuerySet[Any], value: str) -> QuerySet[Any]:
        match = _DATE.match(value)
        if not match:
            raise SearchError(f"date '{value}' must look like [ge|le|gt|lt|eq]YYYY-MM-DD")
        prefix = match.group(1) or "eq"
        if prefix not in {"eq", "lt", "gt", "le", "ge"}:
            raise SearchError(f"the date prefix '{prefix}' is not supported")
        try:
            day = date.fromisoformat(match.group(2))
        except ValueError as error:
            raise SearchError(f"'{value}' is not a date") from error
        if is_datetime:
            start = timezone.make_aware(datetime.combine(day, time.min))
            end = timezone.make_aware(datetime.combine(day, time.max))
            bounds = {"eq": Q(**{f"{path}__range": (start, end)}), "lt": Q(**{f"{path}__lt": start})}
            bounds |= {
                "gt": Q(**{f"{path}__gt": end}),
                "le": Q(**{f"{path}__lte": end}),
                "ge": Q(**{f"{path}__gte": start}),
            }
        else:
            bounds = {"eq": Q(**{path: day}), "lt": Q(**{f"{path}__lt": day}), "gt": Q(**{f"{path}__gt": day})}
            bounds |= {"le": Q(**{f"{path}__lte": day}), "ge": Q(**{f"{path}__gte": day})}
        return rows.filter(bounds[prefix])

    return search


def by_id(rows: QuerySet[Any], value: str) -> QuerySet[Any]:
    ids = [part for part in value.split(",") if part]
    if not ids or not all(part.isdigit() and 0 < int(part) < 2**63 for part in ids):
        raise SearchError(f"_id '{value}' must be one or more numeric ids")
    return rows.filter(pk__in=[int(part) for part in ids])


# --- Patient ------------------------------------------------------------------------------------------


def patient_to_fhir(patient: Patient, context: Context) -> FhirDict:
    return {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": {"lastUpdated": patient.created_at.isoformat()},
        "identifier": [{"system": system("record-number", patient.program), "value": patient.record_number}],
        "active": True,
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.date_of_birth.isoformat(),
        "managingOrganization": {"display": patient.program.name},
    }


def _name(rows: QuerySet[Any], value: str) -> QuerySet[Any]:
    return rows.filter(Q(given_name__icontains=value) | Q(family_name__icontains=value))


register(
    Provider(
        type="Patient",
        rows=lambda program: Patient.objects.filter(program=program).select_related("program").order_by("pk"),
        to_fhir=patient_to_fhir,
        patient_path="pk",
        search={
            "_id": by_id,
            "identifier": lambda rows, value: rows.filter(record_number=value.rsplit("|", 1)[-1]),
            "name": _name,
            "birthdate": by_date("date_of_birth", is_datetime=False),
        },
        updated_field="created_at",
    )
)


# --- Practitioner ----------------------------------------------------------------------------------------


def practitioner_to_fhir(person: User, context: Context) -> FhirDict:
    resource: FhirDict = {
        "resourceType": "Practitioner",
        "id": str(person.pk),
        "identifier": [{"system": system("staff", person.program), "value": person.username}],  # type: ignore[arg-type]
        "active": person.is_active,
    }
    name: FhirDict = {}
    if person.last_name:
        name["family"] = person.last_name
    if person.first_name:
        name["given"] = [person.first_name]
    if name:
        resource["name"] = [name]
    return resource


register(
    Provider(
        type="Practitioner",
        rows=lambda program: (
            User.objects.filter(program=program, role__in=STAFF_ROLES).select_related("program").order_by("pk")
        ),
        to_fhir=practitioner_to_fhir,
        patient_path=None,
        search={
            "_id": by_id,
            "name": lambda rows, v: rows.filter(Q(first_name__icontains=v) | Q(last_name__icontains=v)),
        },
        updated_field="date_joined",
    )
)


# --- CareTeam (one per patient: its id is the patient's) ----------------------------------------------------


def care_team_to_fhir(patient: Patient, context: Context) -> FhirDict:
    members = sorted(patient.care_team_members.all(), key=lambda member: (not member.is_primary, member.pk))
    return {
        "resourceType": "CareTeam",
        "id": str(patient.pk),
        "status": "active",
        "name": f"Care team for {patient.record_number}",
        "subject": {"reference": f"Patient/{patient.pk}"},
        "participant": [
            {
                "member": {"reference": f"Practitioner/{member.clinician_id}"},
                "role": [{"text": "primary clinician" if member.is_primary else "clinician"}],
                "period": {"start": member.since.isoformat()},
            }
            for member in members
        ],
    }


register(
    Provider(
        type="CareTeam",
        rows=lambda program: (
            Patient.objects.filter(program=program)
            .filter(pk__in=CareTeamMember.objects.values("patient_id"))
            .prefetch_related("care_team_members")
            .order_by("pk")
        ),
        to_fhir=care_team_to_fhir,
        patient_path="pk",
        search={"patient": by_patient("pk"), "subject": by_patient("pk"), "_id": by_id},
    )
)


# --- Appointment (a scheduled session) ----------------------------------------------------------------------

_APPOINTMENT_STATUS = {
    SessionStatus.SCHEDULED: "booked",
    SessionStatus.CANCELLED: "cancelled",
    SessionStatus.COMPLETED: "fulfilled",
}
_SERVICE = {
    SessionKind.GROUP: "Group psychotherapy",
    SessionKind.INDIVIDUAL: "Individual psychotherapy",
    SessionKind.FAMILY: "Family psychotherapy",
}


def appointment_to_fhir(session: Session, context: Context) -> FhirDict:
    participants: list[FhirDict] = [
        {"actor": {"reference": f"Patient/{attendee.patient_id}"}, "status": "accepted"}
        for attendee in session.attendees.all()
        if attendee.patient_id not in context.withheld
    ]
    participants += [
        {"actor": {"reference": f"Practitioner/{clinician.pk}"}, "status": "accepted"}
        for clinician in session.clinicians.all()
    ]
    return {
        "resourceType": "Appointment",
        "id": str(session.pk),
        "status": _APPOINTMENT_STATUS[SessionStatus(session.status)],
        "serviceType": [{"text": _SERVICE[SessionKind(session.kind)]}],
        "start": session.starts_at.isoformat(),
        "end": session.ends_at.isoformat(),
        "minutesDuration": session.minutes,
        "participant": participants or [{"status": "accepted", "type": [{"text": "no disclosable participant"}]}],
    }


register(
    Provider(
        type="Appointment",
        rows=lambda program: (
            Session.objects.filter(program=program)
            .prefetch_related("attendees", "clinicians")
            .order_by("starts_at", "pk")
        ),
        to_fhir=appointment_to_fhir,
        patient_path="attendees__patient_id",
        search={
            "patient": by_patient("attendees__patient_id"),
            "actor": by_patient("attendees__patient_id"),
            "date": by_date("starts_at", is_datetime=True),
            "_id": by_id,
        },
        updated_field="created_at",
        # A group session stays (its other members are named); one with only withheld patients goes.
        withhold=lambda rows, withheld: rows.filter(
            ~Exists(SessionAttendee.objects.filter(session=OuterRef("pk")))
            | Exists(SessionAttendee.objects.filter(session=OuterRef("pk")).exclude(patient_id__in=withheld))
        ),
    )
)


# --- Encounter (one patient's part in one session: a SessionAttendee, with the rooms app's attendance) ---------

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_ATTENDED = (AttendanceStatus.ATTENDED, AttendanceStatus.LATE, AttendanceStatus.PARTIAL)


def encounter_status(attendee: SessionAttendee, now: datetime) -> str:
    """FHIR R4 Encounter.status of an attendee row annotated by `_encounter_rows`.

    - the session was cancelled → `cancelled`;
    - attendance recorded as attended, late or partial → `finished`;
    - recorded as absent → `cancelled`: R4 defines it as "the Encounter has ended before it has begun", which
      is a no-show. The Encounter is not dropped, because it was served as `planned` before the session and an
      id must not vanish from a system that synced it;
    - nothing recorded (or the record entered in error): `planned` before the end (`in-progress` once the
      patient has joined the room), `unknown` after it."""
    session = attendee.session
    status = getattr(attendee, "attendance_status", None)
    if session.status == SessionStatus.CANCELLED:
        return "cancelled"
    if status in _ATTENDED:
        return "finished"
    if status == AttendanceStatus.ABSENT:
        return "cancelled"
    if now < session.ends_at:
        return "in-progress" if getattr(attendee, "first_join", None) is not None else "planned"
    return "unknown"


def encounter_to_fhir(attendee: SessionAttendee, context: Context) -> FhirDict:
    session = attendee.session
    status = encounter_status(attendee, timezone.now())
    kind = _SERVICE[SessionKind(session.kind)]
    start, end = session.starts_at, session.ends_at
    joined = getattr(attendee, "attendance_joined", None) or getattr(attendee, "first_join", None)
    left = getattr(attendee, "last_leave", None)
    period: FhirDict = {"start": start.isoformat(), "end": end.isoformat()}
    if status == "in-progress" and joined is not None:
        period = {"start": joined.isoformat()}
    elif status == "finished" and joined is not None:  # the real join and leave, when the room recorded them
        period = {"start": joined.isoformat(), "end": (left if left is not None and left > joined else end).isoformat()}
    resource: FhirDict = {
        "resourceType": "Encounter",
        "id": str(attendee.pk),
        "status": status,
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "type": [{"text": kind}],
        "serviceType": {"text": kind},
        "subject": {"reference": f"Patient/{attendee.patient_id}"},
        "participant": [
            {
                "type": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "PPRF",
                                "display": "primary performer",
                            }
                        ]
                    }
                ],
                "individual": {"reference": f"Practitioner/{clinician.pk}"},
            }
            for clinician in session.clinicians.all()
        ],
        "appointment": [{"reference": f"Appointment/{session.pk}"}],
        "period": period,
    }
    seconds = getattr(attendee, "attendance_seconds", None)
    if status == "finished" and seconds is not None:
        resource["length"] = {
            "value": round(seconds / 60),
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        }
    if not resource["participant"]:
        del resource["participant"]
    # No serviceProvider: the API serves no Organization resource to refer to.
    return resource


def _encounter_rows(program: Program) -> QuerySet[SessionAttendee]:
    attendance = Attendance.objects.filter(session_id=OuterRef("session_id"), patient_id=OuterRef("patient_id"))
    presence = PresenceEvent.objects.filter(session_id=OuterRef("session_id"), patient_id=OuterRef("patient_id"))
    joins = presence.filter(kind=PresenceEvent.Kind.JOIN).order_by("at").values("at")[:1]
    leaves = presence.filter(kind=PresenceEvent.Kind.LEAVE).order_by("-at").values("at")[:1]
    return (
        SessionAttendee.objects.filter(session__program=program)
        .select_related("session")
        .prefetch_related("session__clinicians")
        .annotate(
            attendance_status=Subquery(attendance.values("status")[:1]),
            attendance_seconds=Subquery(attendance.values("seconds_present")[:1]),
            attendance_joined=Subquery(attendance.values("first_joined_at")[:1]),
            attendance_updated=Subquery(attendance.values("computed_at")[:1]),
            attendance_corrected=Subquery(attendance.values("corrected_at")[:1]),
            first_join=Subquery(joins),
            last_leave=Subquery(leaves),
        )
        .annotate(
            updated=Greatest(
                "session__created_at",
                Coalesce("attendance_updated", "session__created_at"),
                Coalesce("attendance_corrected", "session__created_at"),
            )
        )
        .order_by("session__starts_at", "pk")
    )


register(
    Provider(
        type="Encounter",
        rows=_encounter_rows,
        to_fhir=encounter_to_fhir,
        patient_path="patient_id",
        search={
            "patient": by_patient("patient_id"),
            "subject": by_patient("patient_id"),
            "date": by_date("session__starts_at", is_datetime=True),
            "_id": by_id,
        },
        updated_field="updated",
    )
)


def resource_types() -> list[str]:
    return sorted(PROVIDERS)


def patients_of(provider: Provider, rows: Iterable[Model]) -> dict[int, list[int]]:
    """Row pk → the patient ids it is about (for the audit log)."""
    if provider.patient_path is None:
        return {}
    if provider.patient_path == "pk":
        return {row.pk: [row.pk] for row in rows}
    pks = [row.pk for row in rows]
    if not pks:
        return {}
    model = type(next(iter(rows)))
    found: dict[int, list[int]] = {pk: [] for pk in pks}
    for pk, patient_id in model._default_manager.filter(pk__in=pks).values_list("pk", provider.patient_path):
        if patient_id is not None:
            found[pk].append(patient_id)
    return found

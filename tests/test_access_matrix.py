"""Every URL pattern, every role, one's own record and someone else's.

The URL list comes from the URLconf itself: a new view without a row in
MATRIX fails test_every_url_is_in_the_matrix, so nobody can add a page and
forget to decide who may see it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from openiop.accounts.models import Program
from openiop.audit.models import AuditEntry
from openiop.fhirapi.models import ApiClient
from openiop.fhirapi.services import create_client
from openiop.intake.models import Patient
from openiop.portal.models import ProgramPage
from openiop.safety.models import SafetyAlert
from tests.conftest import World
from tests.test_rooms import attendance_row, room_session, someone_elses_session
from tests.treatment_fixtures import check_in_of, discharge_of, goal_of, plan_of, session_of

if TYPE_CHECKING:
    from openiop.intake.models import Patient

ROLES = ("director", "intake", "clinician", "patient", "family")
STAFF = frozenset({"director", "intake", "clinician"})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]  # who gets the page; everyone else gets 404 (or the sign-in page if signed out)
    method: str = "get"
    # For pages about one record: the role's own record and others' (each -> 404).
    own: Callable[[World, str], dict[str, object]] | None = None
    others: tuple[Callable[[World, str], dict[str, object]], ...] = field(default=())
    success: int = 200
    audits_patient: bool = False
    # What a signed-out visitor gets; None means "sent to the sign-in page".
    anonymous: int | None = None


def patient_kwargs(getter: Callable[[World], object]) -> Callable[[World, str], dict[str, object]]:
    return lambda world, role: {"patient_id": getter(world).pk}  # type: ignore[attr-defined]


def a_plan(program_of: Callable[[World], Program]) -> Callable[[World, str], dict[str, object]]:
    """A draft weekly plan of a program (created on demand)."""

    def make(world: World, role: str) -> dict[str, object]:
        from datetime import date

        from openiop.scheduling.models import SchedulePlan

        program = program_of(world)
        author = world.dora if program == world.harborview else world.otto
        plan = SchedulePlan.objects.create(program=program, week_start=date(2026, 11, 30), created_by=author)
        return {"plan_id": plan.pk}

    return make


OWN_CHART = {
    "director": lambda w: w.pat,  # anyone in the program
    "intake": lambda w: w.rae,  # coming in
    "clinician": lambda w: w.pat,  # on Carla's caseload
    "patient": lambda w: w.pat,  # their own: still not a patient's page
    "family": lambda w: w.pat,  # shared with Fay: still not a family page
}
OTHER_CHART = {
    "director": lambda w: w.olga,
    "intake": lambda w: w.pat,  # active patients are not intake's business
    "clinician": lambda w: w.quinn,  # in Cole's group, not Carla's
    "patient": lambda w: w.quinn,
    "family": lambda w: w.quinn,
}


def _referral(program: Program) -> int:
    """A referral in `program` (made on first use)."""
    from datetime import date

    from openiop.referrals.models import Referral

    referral, _made = Referral.objects.get_or_create(
        program=program,
        reference=f"R-TEST{program.pk:04d}",
        defaults={"source": "self", "given_name": "Ann", "family_name": "Test", "date_of_birth": date(1990, 1, 1),
                  "concerns": "test"},
    )  # fmt: skip
    return referral.pk


def _consent(patient: Patient) -> int:
    """A signed consent of `patient` (made on first use)."""
    from openiop.referrals.models import SignedConsent
    from openiop.referrals.services import current_document

    existing = SignedConsent.objects.filter(patient=patient).first()
    if existing is not None:
        return existing.pk
    return SignedConsent.objects.create(
        referral_id=_referral(patient.program),
        patient=patient,
        document=current_document("treatment"),
        typed_name="x",
        text_sha256="0" * 64,
        shown_text="x",
    ).pk


def _own_referral(w: World, role: str) -> dict[str, object]:
    return {"referral_id": _referral(w.harborview)}


def _other_referral(w: World, role: str) -> dict[str, object]:
    return {"referral_id": _referral(w.elsewhere)}


OWN_REFERRAL = _own_referral
OTHER_REFERRAL = (_other_referral,)
REFERRAL_STAFF = STAFF
INTAKE_STAFF = frozenset({"director", "intake"})


def alert(which: str) -> Callable[[World, str], dict[str, object]]:
    """A safety alert made on first use (and kept on the world): "pat" (Carla's patient), "referral" (no
    patient yet, sent to Ivan), "elsewhere" (Olga, the other program)."""

    def kwargs(world: World, role: str) -> dict[str, object]:
        made: dict[str, SafetyAlert] = world.__dict__.setdefault("_alerts", {})
        key = ("referral" if role == "intake" else "pat") if which == "own" else which
        if key not in made:
            program = world.elsewhere if key == "elsewhere" else world.harborview
            patient = {"pat": world.pat, "elsewhere": world.olga}.get(key)
            made[key] = SafetyAlert.objects.create(
                program=program, patient=patient, about="Referral R-1", source="measure", summary="item 9"
            )
            if key == "referral":
                made[key].notified.add(world.ivan)
        return {"alert_id": made[key].pk}

    return kwargs


def public_page(which: str) -> Callable[[World, str], dict[str, object]]:
    """A program's public page, made on first use: "own" is Harborview's (published), "unpublished" is
    Elsewhere's (not published: the same 404 as a page that does not exist)."""

    def kwargs(world: World, role: str) -> dict[str, object]:
        program = world.harborview if which == "own" else world.elsewhere
        ProgramPage.objects.get_or_create(program=program, defaults={"published": which == "own"})
        return {"slug": program.slug}

    return kwargs


def measure_response_of(patient_of: Callable[[World], object]) -> Callable[[World, str], dict[str, object]]:
    """Kwargs for a stored PHQ-9 response of the patient `patient_of` picks."""

    def make(world: World, role: str) -> dict[str, object]:
        from openiop.measures import services as measures

        patient = cast("Patient", patient_of(world))
        questionnaire = measures.builtin_questionnaire("phq9")
        parsed = questionnaire.parsed()
        answers = {str(n): parsed.by_link_id()[str(n)].options[0] for n in range(1, 10)}
        response = measures.submit_response(
            questionnaire=questionnaire,
            patient=patient,
            actor=world.dora,
            answers=answers,
        )
        return {"patient_id": patient.pk, "response_id": response.pk}

    return make


def measure_done(patient_of: Callable[[World], object]) -> Callable[[World, str], dict[str, object]]:
    make = measure_response_of(patient_of)
    return lambda world, role: {"response_id": make(world, role)["response_id"]}


CLINICAL = frozenset({"director", "clinician"})
CLINICIAN = frozenset({"clinician"})


def chart_own(world: World, role: str) -> dict[str, object]:
    return {"patient_id": OWN_CHART[role](world).pk}


Others = tuple[Callable[[World, str], dict[str, object]], ...]
CHART_OTHERS: Others = (
    lambda w, role: {"patient_id": OTHER_CHART[role](w).pk},
    lambda w, role: {"patient_id": w.olga.pk},
)


def plan_own(world: World, role: str) -> dict[str, object]:
    return {"plan_id": plan_of(world, "pat").pk}


PLAN_OTHERS: Others = (
    lambda w, role: {"plan_id": plan_of(w, "olga" if role == "director" else "quinn").pk},
    lambda w, role: {"plan_id": plan_of(w, "olga").pk},
)


def session_own(world: World, role: str) -> dict[str, object]:
    return {"session_id": session_of(world, "carla").pk}


SESSION_OTHERS: Others = (
    lambda w, role: {"session_id": session_of(w, "cole").pk},
    lambda w, role: {"session_id": session_of(w, "oscar").pk},
)


def integration(which: str) -> Callable[[World, str], dict[str, object]]:
    def kwargs(world: World, role: str) -> dict[str, object]:
        made: dict[str, ApiClient] = world.__dict__.setdefault("_integrations", {})
        if which not in made:
            director = world.otto if which == "elsewhere" else world.dora
            made[which] = create_client(director, name=which, scopes=["system/*.read"]).client
        return {"client_id": made[which].pk}

    return kwargs


API = frozenset(ROLES)  # a session never opens the FHIR API: 401 for everyone without a bearer token
MATRIX: dict[str, Rule] = {
    # intake: the public form (no account), consent links (an unknown token is the same 404 for everyone)
    "referrals:refer": Rule(
        roles=frozenset(ROLES), own=lambda w, r: {"program_slug": w.harborview.slug}, anonymous=200
    ),
    "referrals:refer_done": Rule(
        roles=frozenset(ROLES), own=lambda w, r: {"program_slug": w.harborview.slug}, success=302, anonymous=302
    ),
    "referrals:self_screen": Rule(  # without a referral in this browser session: back to the form
        roles=frozenset(ROLES), own=lambda w, r: {"program_slug": w.harborview.slug}, success=302, anonymous=302
    ),
    "referrals:consent": Rule(roles=frozenset(), own=lambda w, r: {"token": "x" * 43}, anonymous=404),
    # intake: staff pages about one referral in their own program
    "referrals:board": Rule(roles=REFERRAL_STAFF),
    "referrals:new": Rule(roles=REFERRAL_STAFF),
    "referrals:detail": Rule(roles=REFERRAL_STAFF, own=OWN_REFERRAL, others=OTHER_REFERRAL),
    "referrals:screen": Rule(roles=REFERRAL_STAFF, own=OWN_REFERRAL, others=OTHER_REFERRAL),
    "referrals:enroll": Rule(roles=INTAKE_STAFF, own=OWN_REFERRAL, others=OTHER_REFERRAL),
    # posts without their form (or before the referral is ready): a clear 400
    "referrals:decide": Rule(
        roles=frozenset({"director", "clinician"}), method="post", own=OWN_REFERRAL, others=OTHER_REFERRAL, success=400
    ),
    "referrals:send_consent": Rule(
        roles=INTAKE_STAFF, method="post", own=OWN_REFERRAL, others=OTHER_REFERRAL, success=400
    ),
    "referrals:close": Rule(roles=INTAKE_STAFF, method="post", own=OWN_REFERRAL, others=OTHER_REFERRAL, success=400),
    "referrals:acknowledge": Rule(
        roles=REFERRAL_STAFF, method="post", own=OWN_REFERRAL, others=OTHER_REFERRAL, success=302
    ),
    "referrals:my_consents": Rule(roles=frozenset({"patient"}), audits_patient=True),
    "referrals:revoke": Rule(
        roles=frozenset({"patient", "director", "intake"}),
        method="post",
        own=lambda w, role: {"consent_id": _consent(w.pat)},
        others=(lambda w, role: {"consent_id": _consent(w.olga)},),
        success=400,  # no reason given
    ),
    # public
    "healthz": Rule(roles=frozenset(ROLES), anonymous=200),
    "accounts:login": Rule(roles=frozenset(ROLES), success=302, anonymous=200),  # signed in: on to home
    "accounts:password_reset": Rule(roles=frozenset(ROLES), anonymous=200),
    "accounts:password_reset_done": Rule(roles=frozenset(ROLES), anonymous=200),
    "accounts:password_reset_complete": Rule(roles=frozenset(ROLES), anonymous=200),
    "accounts:password_reset_confirm": Rule(
        roles=frozenset(ROLES), own=lambda w, r: {"uidb64": "MQ", "token": "set-password"}, anonymous=200
    ),
    # an unknown token is the same 404 page for everyone; the good path is in test_accounts
    "accounts:accept_invitation": Rule(roles=frozenset(), own=lambda w, r: {"token": "x" * 43}, anonymous=404),
    # for everyone signed in
    "home": Rule(roles=frozenset(ROLES), success=302),
    "accounts:logout": Rule(roles=frozenset(ROLES), method="post", success=302, anonymous=302),
    "accounts:password_change": Rule(roles=frozenset(ROLES)),
    "accounts:session_status": Rule(roles=frozenset(ROLES), anonymous=401),
    "accounts:keepalive": Rule(roles=frozenset(ROLES), method="post", anonymous=401),
    # two-factor pages send the already-verified (and non-staff) on to their home
    "accounts:two_factor": Rule(roles=frozenset(ROLES), success=302),
    "accounts:two_factor_setup": Rule(roles=frozenset(ROLES), success=302),
    # role home pages
    "program_overview": Rule(roles=frozenset({"director"})),
    "program_patients": Rule(roles=frozenset({"director"})),
    "people": Rule(roles=frozenset({"director"})),
    "audit_log": Rule(roles=frozenset({"director"})),
    "intake_home": Rule(roles=frozenset({"intake"})),
    "caseload": Rule(roles=frozenset({"clinician"})),
    "break_glass": Rule(roles=frozenset({"clinician"})),
    "intake:patient_today": Rule(roles=frozenset({"patient"}), audits_patient=True),
    "intake:family_home": Rule(roles=frozenset({"family"})),
    # weekly schedule (scheduling app)
    "scheduling:plans": Rule(roles=frozenset({"director"})),
    "scheduling:plan_detail": Rule(
        roles=frozenset({"director"}), own=a_plan(lambda w: w.harborview), others=(a_plan(lambda w: w.elsewhere),)
    ),
    "scheduling:publish": Rule(
        roles=frozenset({"director"}),
        method="post",
        own=a_plan(lambda w: w.harborview),
        others=(a_plan(lambda w: w.elsewhere),),
        success=302,
    ),
    # a draft without members: merging needs two groups of it (a clear 400 without them)
    "scheduling:merge_groups": Rule(
        roles=frozenset({"director"}),
        method="post",
        own=a_plan(lambda w: w.harborview),
        others=(a_plan(lambda w: w.elsewhere),),
        success=400,
    ),
    # clinicians' scheduler settings: the director edits anyone's in the program, a clinician only their own times
    "scheduling:clinicians": Rule(roles=frozenset({"director"})),
    "scheduling:clinician_availability": Rule(
        roles=frozenset({"director"}),
        own=lambda w, role: {"clinician_id": w.carla.pk},
        others=(lambda w, role: {"clinician_id": w.oscar.pk}, lambda w, role: {"clinician_id": w.dora.pk}),
    ),
    "scheduling:my_availability": Rule(roles=CLINICIAN),
    "scheduling:week": Rule(roles=STAFF),
    "scheduling:patient_availability": Rule(
        roles=STAFF,
        own=lambda w, role: {"patient_id": OWN_CHART[role](w).pk},
        others=(
            lambda w, role: {"patient_id": OTHER_CHART[role](w).pk},
            lambda w, role: {"patient_id": w.olga.pk},
        ),
        audits_patient=True,
    ),
    "scheduling:my_sessions": Rule(roles=frozenset({"patient", "family"})),
    "scheduling:calendar_settings": Rule(roles=frozenset(ROLES)),
    # an unknown or revoked token is the same 404 for everyone; the good path is in test_scheduling_views
    "scheduling:calendar_feed": Rule(roles=frozenset(), own=lambda w, r: {"token": "x" * 43}, anonymous=404),
    # one record each
    "intake:patient_chart": Rule(
        roles=STAFF,
        own=lambda w, role: {"patient_id": OWN_CHART[role](w).pk},
        others=(
            lambda w, role: {"patient_id": OTHER_CHART[role](w).pk},
            lambda w, role: {"patient_id": w.olga.pk},
        ),
        audits_patient=True,
    ),
    "intake:family_patient": Rule(
        roles=frozenset({"family"}),
        own=lambda w, role: {"patient_id": w.pat.pk},
        others=(lambda w, role: {"patient_id": w.quinn.pk}, lambda w, role: {"patient_id": w.olga.pk}),
        audits_patient=True,
    ),
    "manage_person": Rule(
        roles=frozenset({"director"}),
        method="post",
        own=lambda w, role: {"person_id": w.carla.pk},
        others=(lambda w, role: {"person_id": w.oscar.pk}, lambda w, role: {"person_id": w.pat_user.pk}),
        success=400,  # no action given: a clear 400; the actions are tested in test_accounts
    ),
    # session rooms: the session's clinician (Carla), its patient (Pat), the invited family member (Fay)
    "rooms:sessions": Rule(roles=frozenset({"clinician", "patient", "family"})),
    "rooms:new_session": Rule(roles=frozenset({"clinician"})),
    "rooms:room": Rule(
        roles=frozenset({"clinician", "patient", "family"}),
        own=lambda w, role: {"session_id": room_session(w).pk},
        others=(
            lambda w, role: {"session_id": someone_elses_session(w).pk},
            lambda w, role: {"session_id": someone_elses_session(w, elsewhere=True).pk},
        ),
        audits_patient=True,
    ),
    "rooms:safety_check": Rule(
        roles=frozenset({"patient"}),
        method="post",
        own=lambda w, role: {"session_id": room_session(w).pk},
        others=(lambda w, role: {"session_id": someone_elses_session(w).pk},),
        success=400,  # nothing filled in: a clear 400; the good path is in test_rooms
        audits_patient=True,
    ),
    "rooms:attendance": Rule(
        roles=frozenset({"clinician"}),
        own=lambda w, role: {"session_id": room_session(w).pk},
        others=(lambda w, role: {"session_id": someone_elses_session(w).pk},),
    ),
    "rooms:chat_to_note": Rule(  # no transcript: a clear 400; saving is tested in test_cross_wiring
        roles=frozenset({"clinician"}),
        method="post",
        own=lambda w, role: {"session_id": room_session(w).pk},
        others=(lambda w, role: {"session_id": someone_elses_session(w).pk},),
        success=400,
    ),
    "rooms:finish": Rule(
        roles=frozenset({"clinician"}),
        method="post",
        own=lambda w, role: {"session_id": room_session(w).pk},
        others=(lambda w, role: {"session_id": someone_elses_session(w).pk},),
        success=302,
    ),
    "rooms:correct": Rule(
        roles=frozenset({"clinician"}),
        method="post",
        own=lambda w, role: {"attendance_id": attendance_row(w).pk},
        others=(lambda w, role: {"attendance_id": attendance_row(w, someone_elses_session(w)).pk},),
        success=400,  # no status or reason given
        audits_patient=True,
    ),
    "outbox": Rule(roles=frozenset({"director"})),
    "outbox_retry": Rule(  # a message that has not failed cannot be retried: back to the outbox with a notice
        roles=frozenset({"director"}), method="post", own=lambda w, r: {"message_id": 987654321}, success=302
    ),
    "safety:alert_list": Rule(roles=STAFF),
    "safety:alert": Rule(roles=STAFF, own=alert("own"), others=(alert("elsewhere"),)),
    "safety:acknowledge": Rule(roles=STAFF, method="post", own=alert("own"), others=(alert("elsewhere"),), success=302),
    "safety:resolve": Rule(roles=STAFF, method="post", own=alert("own"), others=(alert("elsewhere"),), success=400),
    # the portal (openiop/portal): public pages, the patient's and family member's pages
    "portal:program_page": Rule(
        roles=frozenset(ROLES), own=public_page("own"), others=(public_page("unpublished"),), anonymous=200
    ),
    "portal:track_finder": Rule(
        roles=frozenset(ROLES), own=public_page("own"), others=(public_page("unpublished"),), anonymous=200
    ),
    "portal:self_referral": Rule(  # forwards to intake's public form
        roles=frozenset(ROLES), own=public_page("own"), others=(public_page("unpublished"),), success=302, anonymous=302
    ),
    # no language given: 400 for everyone; switching is tested in test_portal_languages
    "portal:set_language": Rule(roles=frozenset(ROLES), method="post", success=400, anonymous=400),
    "portal:manifest": Rule(roles=frozenset(ROLES), anonymous=200),
    "portal:service_worker": Rule(roles=frozenset(ROLES), anonymous=200),
    "portal:offline": Rule(roles=frozenset(ROLES), anonymous=200),
    "portal:today": Rule(roles=frozenset({"patient"}), audits_patient=True),
    "portal:schedule": Rule(roles=frozenset({"patient"}), audits_patient=True),
    "portal:messages": Rule(roles=frozenset({"patient"}), audits_patient=True),
    "portal:settings": Rule(roles=frozenset({"patient", "family"})),
    "portal:staff_messages": Rule(
        roles=STAFF,
        own=lambda w, role: {"patient_id": OWN_CHART[role](w).pk},
        others=(
            lambda w, role: {"patient_id": OTHER_CHART[role](w).pk},
            lambda w, role: {"patient_id": w.olga.pk},
        ),
        audits_patient=True,
    ),
    "portal:edit_page": Rule(roles=frozenset({"director"})),
    # measures
    "measures:fill": Rule(roles=frozenset({"patient"}), own=lambda w, r: {"slug": "phq9"}, audits_patient=True),
    "measures:done": Rule(
        roles=frozenset({"patient"}),
        own=measure_done(lambda w: w.pat),
        others=(measure_done(lambda w: w.quinn),),
        audits_patient=True,
    ),
    "measures:my_progress": Rule(roles=frozenset({"patient"}), audits_patient=True),
    "measures:caseload": Rule(roles=frozenset({"director", "clinician"})),
    "measures:import": Rule(roles=frozenset({"director"})),
    "measures:schedules": Rule(roles=frozenset({"director"})),
    "measures:trajectories": Rule(
        roles=STAFF,
        own=lambda w, role: {"patient_id": OWN_CHART[role](w).pk},
        others=(lambda w, role: {"patient_id": OTHER_CHART[role](w).pk}, lambda w, role: {"patient_id": w.olga.pk}),
        audits_patient=True,
    ),
    "measures:administer": Rule(
        roles=STAFF,
        own=lambda w, role: {"patient_id": OWN_CHART[role](w).pk, "slug": "gad7"},
        others=(lambda w, role: {"patient_id": OTHER_CHART[role](w).pk, "slug": "gad7"},),
        audits_patient=True,
    ),
    "measures:response_fhir": Rule(
        roles=STAFF,
        own=lambda w, role: measure_response_of(lambda w: OWN_CHART[role](w))(w, role),
        others=(
            lambda w, role: measure_response_of(lambda w: OTHER_CHART[role](w))(w, role),
            lambda w, role: measure_response_of(lambda w: w.olga)(w, role),
        ),
        audits_patient=True,
    ),
    "reports:dashboard": Rule(roles=frozenset({"director"})),
    "reports:outcomes": Rule(roles=frozenset({"director"})),
    "reports:care_list": Rule(roles=frozenset({"director"}), success=400),  # no metric: a clear 400
    "reports:billing": Rule(roles=frozenset({"director"})),
    "reports:billing_csv": Rule(roles=frozenset({"director"}), success=400),  # no payer chosen: a clear 400
    "reports:outcomes_csv": Rule(roles=frozenset({"director"})),
    "reports:outcomes_pdf": Rule(roles=frozenset({"director"})),
    "reports:drilldown": Rule(roles=frozenset({"director"}), success=400),  # no metric: a clear 400
    "fhirapi:metadata": Rule(roles=frozenset(ROLES), anonymous=200),
    "fhirapi:search": Rule(roles=API, own=lambda w, r: {"resource_type": "Patient"}, success=401, anonymous=401),
    "fhirapi:read": Rule(
        roles=API, own=lambda w, r: {"resource_type": "Patient", "resource_id": w.pat.pk}, success=401, anonymous=401
    ),
    "fhirapi:export": Rule(roles=API, success=401, anonymous=401),
    "fhirapi:export_status": Rule(roles=API, own=lambda w, r: {"job_id": 1}, success=401, anonymous=401),
    "fhirapi:export_file": Rule(
        roles=API, own=lambda w, r: {"job_id": 1, "resource_type": "Patient"}, success=401, anonymous=401
    ),
    "fhirapi:integrations": Rule(roles=frozenset({"director"})),
    "fhirapi:revoke": Rule(
        roles=frozenset({"director"}),
        method="post",
        own=integration("mine"),
        others=(integration("elsewhere"),),
        success=302,
    ),
    "review_break_glass": Rule(
        roles=frozenset({"director"}),
        method="post",
        own=lambda w, role: {"grant_id": w.grant_here.pk},
        others=(lambda w, role: {"grant_id": w.grant_elsewhere.pk},),
        success=302,
    ),
    # treatment (openiop/treatment): patients' records, plans, session notes, reviews, discharge, the portal
    "treatment:patient_treatment": Rule(roles=CLINICAL, own=chart_own, others=CHART_OTHERS, audits_patient=True),
    "treatment:export": Rule(roles=CLINICAL, own=chart_own, others=CHART_OTHERS, audits_patient=True),
    # empty forms: a clear 400 after the access check
    "treatment:counseling_consent": Rule(
        roles=CLINICAL, method="post", own=chart_own, others=CHART_OTHERS, success=400, audits_patient=True
    ),
    "treatment:create_plan": Rule(
        roles=CLINICIAN, method="post", own=chart_own, others=CHART_OTHERS, success=400, audits_patient=True
    ),
    "treatment:progress_review": Rule(roles=CLINICIAN, own=chart_own, others=CHART_OTHERS, audits_patient=True),
    "treatment:discharge": Rule(roles=CLINICIAN, own=chart_own, others=CHART_OTHERS, audits_patient=True),
    "treatment:plan": Rule(roles=CLINICAL, own=plan_own, others=PLAN_OTHERS, audits_patient=True),
    "treatment:edit_plan": Rule(roles=CLINICIAN, method="post", own=plan_own, others=PLAN_OTHERS, success=400),
    "treatment:add_goal": Rule(roles=CLINICIAN, method="post", own=plan_own, others=PLAN_OTHERS, success=400),
    # signing a draft with a goal works (302); a draft cannot be revised or marked reviewed (409)
    "treatment:sign_plan": Rule(roles=CLINICIAN, method="post", own=plan_own, others=PLAN_OTHERS, success=302),
    "treatment:revise_plan": Rule(roles=CLINICIAN, method="post", own=plan_own, others=PLAN_OTHERS, success=409),
    "treatment:plan_reviewed": Rule(roles=CLINICIAN, method="post", own=plan_own, others=PLAN_OTHERS, success=409),
    "treatment:goal_status": Rule(
        roles=CLINICIAN,
        method="post",
        own=lambda w, r: {"goal_id": goal_of(w, "pat").pk},
        others=(lambda w, r: {"goal_id": goal_of(w, "quinn").pk}, lambda w, r: {"goal_id": goal_of(w, "olga").pk}),
        success=400,
    ),
    "treatment:sessions": Rule(roles=CLINICIAN),
    "treatment:session_note": Rule(roles=CLINICIAN, own=session_own, others=SESSION_OTHERS, audits_patient=True),
    "treatment:add_addendum": Rule(roles=CLINICIAN, method="post", own=session_own, others=SESSION_OTHERS, success=400),
    "treatment:cosign": Rule(roles=CLINICIAN, method="post", own=session_own, others=SESSION_OTHERS, success=409),
    "treatment:curriculum": Rule(roles=CLINICAL),
    "treatment:discharge_pdf": Rule(
        roles=CLINICAL | {"patient"},
        own=lambda w, r: {"discharge_id": discharge_of(w, "pat").pk},
        others=(
            lambda w, r: {"discharge_id": discharge_of(w, "olga" if r == "director" else "quinn").pk},
            lambda w, r: {"discharge_id": discharge_of(w, "olga").pk},
        ),
        audits_patient=True,
    ),
    "treatment:my_treatment": Rule(roles=frozenset({"patient"}), audits_patient=True),
    "treatment:my_plan_sign": Rule(
        roles=frozenset({"patient"}), method="post", own=plan_own, others=PLAN_OTHERS, success=302
    ),
    "treatment:my_check_in": Rule(
        roles=frozenset({"patient"}),
        own=lambda w, r: {"check_in_id": check_in_of(w, "pat").pk},
        others=(lambda w, r: {"check_in_id": check_in_of(w, "quinn").pk},),
        audits_patient=True,
    ),
}


def url_names(patterns: list[URLPattern | URLResolver] | None = None, namespace: str = "") -> Iterator[str]:
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern.url_patterns, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}"
        else:
            yield f"{namespace}<unnamed {pattern.pattern}>"


def test_every_url_is_in_the_matrix() -> None:
    names = set(url_names())
    missing = sorted(names - MATRIX.keys())
    assert not missing, f"Add these URL patterns to the access matrix: {missing}"
    assert not sorted(MATRIX.keys() - names), "The matrix names URLs that no longer exist"


def _request(client: Client, rule: Rule, url: str):
    return client.post(url) if rule.method == "post" else client.get(url)


def _url(name: str, rule: Rule, world: World, role: str) -> str:
    kwargs = rule.own(world, role) if rule.own else {}
    return reverse(name, kwargs=kwargs)


CASES = [(name, role) for name in sorted(MATRIX) for role in ROLES]


@pytest.mark.parametrize(("name", "role"), CASES)
def test_role_on_own_record(world: World, client_for, name: str, role: str) -> None:
    rule = MATRIX[name]
    client = client_for(world.person(role))
    before = AuditEntry.objects.count()
    response = _request(client, rule, _url(name, rule, world, role))
    if role in rule.roles:
        assert response.status_code == rule.success, response.content[:500]
        if rule.audits_patient:
            entry = AuditEntry.objects.order_by("-seq").first()
            assert entry is not None and AuditEntry.objects.count() > before
            assert entry.action == "read" and entry.actor == world.person(role)
            kwargs = rule.own(world, role) if rule.own else {}
            assert entry.patient_id == kwargs.get("patient_id", world.pat.pk)  # the record asked for
    else:
        assert response.status_code == 404, f"{name} gave {response.status_code} to {role}"
        if rule.audits_patient:
            assert not AuditEntry.objects.filter(seq__gt=before, action="read", patient__isnull=False).exists()


OTHER_CASES = [(name, role, i) for name in sorted(MATRIX) for role in ROLES for i in range(len(MATRIX[name].others))]


@pytest.mark.parametrize(("name", "role", "which"), OTHER_CASES)
def test_role_on_someone_elses_record_is_404(world: World, client_for, name: str, role: str, which: int) -> None:
    rule = MATRIX[name]
    client = client_for(world.person(role))
    url = reverse(name, kwargs=rule.others[which](world, role))
    response = _request(client, rule, url)
    assert response.status_code == 404
    # "Not yours" looks exactly like "does not exist".
    missing = reverse(name, kwargs={key: 987654321 for key in rule.others[which](world, role)})
    assert _without_csrf(_request(client, rule, missing).content) == _without_csrf(response.content)


def _without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_signed_out(world: World, name: str) -> None:
    rule = MATRIX[name]
    response = _request(Client(), rule, _url(name, rule, world, "director"))
    if rule.anonymous is not None:
        assert response.status_code == rule.anonymous
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

"""Weekly plans through HTTP: build, compare, publish; calendars and the private iCal feed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from openiop.audit.models import AuditEntry
from openiop.intake.models import Enrollment
from openiop.outbox.models import OutboxMessage
from openiop.scheduling import services
from openiop.scheduling.models import (
    CalendarFeed,
    GroupMembership,
    PlanStatus,
    SchedulePlan,
    Session,
    SessionAttendee,
    SessionKind,
    SessionStatus,
)
from tests.conftest import World
from tests.test_access_matrix import _without_csrf

EVENINGS = [(d, 2) for d in range(5)]
MORNINGS = [(d, 0) for d in range(5)]


def week_with_family_session(world: World) -> date:
    monday = services.monday_of(date.today()) + timedelta(days=7)
    enrollment = Enrollment.objects.get(patient=world.pat)
    return monday if services.family_due(world.pat, monday, enrollment) else monday + timedelta(days=7)


@pytest.fixture
def program(world: World) -> World:
    services.ensure_pattern(world.track, [2])
    services.set_clinician_availability(world.carla, EVENINGS + MORNINGS, max_hours=30)
    services.set_clinician_availability(world.cole, EVENINGS, max_hours=20)
    services.set_clinician_availability(world.oscar, EVENINGS + MORNINGS)
    for patient in (world.pat, world.quinn, world.rae, world.olga):
        services.set_patient_availability(
            actor=None, patient=patient, blocks=EVENINGS + MORNINGS, family_sessions=patient == world.pat
        )
    return world


def build(client: Client, week: date) -> SchedulePlan:
    response = client.post(reverse("scheduling:plans"), {"week_start": week.isoformat(), "method": "cp-sat"})
    assert response.status_code == 302, response.content[:400]
    return SchedulePlan.objects.order_by("-pk").first()  # type: ignore[return-value]


def test_director_builds_a_plan_and_sees_what_would_change(program: World, client_for) -> None:
    world = program
    client = client_for(world.dora)
    week = week_with_family_session(world)
    plan = build(client, week)
    assert plan.status == PlanStatus.DRAFT and plan.program == world.harborview
    # pat, quinn and rae (planned, starting by then) are scheduled; olga is in another program
    assert set(plan.assignments.values_list("patient__given_name", flat=True)) == {"Pat", "Quinn", "Rae"}
    assert plan.at_dose == 3 and plan.explanations == []
    assert AuditEntry.objects.filter(action="create", record_type="scheduling.scheduleplan", record_id=str(plan.pk))
    page = client.get(reverse("scheduling:plan_detail", kwargs={"plan_id": plan.pk}))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Pat Example" in body and "not scheduled" in body  # nothing published yet: everyone changes
    reads = AuditEntry.objects.filter(action="read", detail__purpose="schedule-plan")
    assert set(reads.values_list("patient__given_name", flat=True)) == {"Pat", "Quinn", "Rae"}
    kinds = set(plan.appointments.filter(patient=world.pat).values_list("kind", flat=True))
    assert kinds == {SessionKind.INDIVIDUAL, SessionKind.FAMILY}
    assert plan.appointments.get(patient=world.pat, kind=SessionKind.INDIVIDUAL).clinician == world.carla


def test_a_bad_week_is_a_400_and_stores_nothing(program: World, client_for) -> None:
    client = client_for(program.dora)
    response = client.post(reverse("scheduling:plans"), {"week_start": "not a date", "method": "cp-sat"})
    assert response.status_code == 400
    assert not SchedulePlan.objects.exists()


def test_publishing_creates_sessions_in_one_audited_step(program: World, client_for) -> None:
    world = program
    client = client_for(world.dora)
    plan = build(client, week_with_family_session(world))
    response = client.post(reverse("scheduling:publish", kwargs={"plan_id": plan.pk}))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    groups = Session.objects.filter(kind=SessionKind.GROUP)
    assert groups.count() == 3  # one group, three evenings
    assert {s.starts_at.astimezone().weekday() for s in groups} | set() and all(
        set(s.attendees.values_list("patient__given_name", flat=True)) == {"Pat", "Quinn", "Rae"} for s in groups
    )
    individual = Session.objects.filter(kind=SessionKind.INDIVIDUAL)
    assert individual.count() == 3
    family = Session.objects.get(kind=SessionKind.FAMILY)
    assert list(family.family_guests.all()) == [world.fay]
    assert list(family.attendees.values_list("patient", flat=True)) == [world.pat.pk]
    assert set(plan.sessions.all()) == set(Session.objects.all())
    group = groups.first().therapy_group  # type: ignore[union-attr]
    assert group is not None and group.slot.part == 2
    assert GroupMembership.objects.filter(group=group, end_date__isnull=True).count() == 3
    # quinn left the old, slot-less group for the planned one
    assert not GroupMembership.objects.filter(group=world.group, patient=world.quinn, end_date__isnull=True)
    entry = AuditEntry.objects.get(action="update", record_type="scheduling.scheduleplan")
    assert entry.actor == world.dora and entry.detail["sessions_created"] == 7
    # everyone affected hears about it, without clinical details
    mail = OutboxMessage.objects.filter(purpose="schedule")
    clinicians = {g.facilitator.email for g in plan.groups.all()} | {a.clinician.email for a in plan.appointments.all()}
    assert "carla@example.org" in clinicians  # pat's primary
    # rae has no sign-in; fay is invited to pat's family session
    people = {"pat@example.org", "quinn@example.org", "fay@example.org"}
    assert set(mail.values_list("to_address", flat=True)) == people | clinicians
    for message in mail:
        assert "Example" not in message.body and "evenings" not in message.body and "SU" not in message.subject
    # publishing again changes nothing
    again = client.post(reverse("scheduling:publish", kwargs={"plan_id": plan.pk}))
    assert again.status_code == 409
    assert Session.objects.count() == 7


def test_republishing_the_week_with_one_change_moves_only_that_person(program: World, client_for) -> None:
    world = program
    client = client_for(world.dora)
    week = week_with_family_session(world)
    first = build(client, week)
    client.post(reverse("scheduling:publish", kwargs={"plan_id": first.pk}))
    # nothing changed: the re-solved plan is the same
    same = build(client, week)
    assert services.plan_changes(same)[1] == []
    # quinn can no longer do the evenings the group meets
    group_days = first.groups.get().days
    services.set_patient_availability(
        actor=world.dora, patient=world.quinn, blocks=[(int(group_days[0]), 2), *MORNINGS]
    )
    changed = build(client, week)
    base, changes = services.plan_changes(changed)
    assert base == first
    assert [c.patient for c in changes] == [world.quinn]
    page = client.get(reverse("scheduling:plan_detail", kwargs={"plan_id": changed.pk}))
    assert "Quinn Example" in page.content.decode()
    explanation = changed.explanations[0]
    assert explanation["patient"] == world.quinn.pk and "available only" in explanation["reason"]
    client.post(reverse("scheduling:publish", kwargs={"plan_id": changed.pk}))
    first.refresh_from_db()
    assert first.status == PlanStatus.SUPERSEDED
    # the group's meetings are the same sessions as before, without quinn (tests/test_scheduling_republish.py
    # covers the rest of republishing)
    live = Session.objects.filter(status=SessionStatus.SCHEDULED, kind=SessionKind.GROUP)
    assert set(live) == set(first.sessions.filter(kind=SessionKind.GROUP)) and live.count() == 3
    assert all(world.quinn.pk not in s.attendees.values_list("patient", flat=True) for s in live)


@pytest.fixture
def published(program: World, client_for) -> World:
    client = client_for(program.dora)
    plan = build(client, week_with_family_session(program))
    client.post(reverse("scheduling:publish", kwargs={"plan_id": plan.pk}))
    return program


def feed_url(client: Client) -> str:
    response = client.post(reverse("scheduling:calendar_settings"), {"action": "renew"})
    assert response.status_code == 200
    url = response.context["new_url"]
    return url[url.index("/calendar/") :]


def test_ical_feed_has_only_that_persons_sessions_and_stops_when_revoked(published: World, client_for) -> None:
    world = published
    client = client_for(world.pat_user)
    url = feed_url(client)
    token = url.removeprefix("/calendar/").removesuffix(".ics")
    assert not CalendarFeed.objects.filter(token_hash=token).exists()  # only the hash is stored
    anonymous = Client()
    response = anonymous.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    mine = Session.objects.filter(attendees__patient=world.pat).exclude(status=SessionStatus.CANCELLED)
    assert {str(e["UID"]) for e in events} == {f"session-{s.pk}@openiop" for s in mine}
    assert len(events) == 5  # three group evenings, one individual, one family session
    body = response.content.decode()
    assert "Quinn" not in body and "Rae" not in body and "Example" not in body
    # revoked: the same 404 as a token that never existed
    client.post(reverse("scheduling:calendar_settings"), {"action": "revoke"})
    assert anonymous.get(url).status_code == 404
    assert _without_csrf(anonymous.get(url).content) == _without_csrf(
        anonymous.get("/calendar/" + "y" * 43 + ".ics").content
    )
    # renewed: the new link works, the old one still does not
    new = feed_url(client)
    assert new != url and anonymous.get(new).status_code == 200 and anonymous.get(url).status_code == 404
    assert AuditEntry.objects.filter(record_type="scheduling.calendarfeed", actor=world.pat_user).count() == 3


def test_a_clinicians_feed_names_no_patient(published: World, client_for) -> None:
    world = published
    url = feed_url(client_for(world.carla))
    body = Client().get(url).content.decode()
    events = Calendar.from_ical(body).walk("VEVENT")
    assert len(events) == Session.objects.filter(clinicians=world.carla).count() > 0
    assert "Pat" not in body and "Quinn" not in body and "Rae" not in body


def test_patients_see_only_their_own_sessions(published: World, client_for) -> None:
    world = published
    pat_page = client_for(world.pat_user).get(reverse("scheduling:my_sessions"))
    quinn_page = client_for(world.quinn_user).get(reverse("scheduling:my_sessions"))
    assert len(pat_page.context["sessions"]) == 5
    assert len(quinn_page.context["sessions"]) == 4
    assert all(s.attendees.filter(patient=world.quinn).exists() for s in quinn_page.context["sessions"])
    assert "Family session" not in quinn_page.content.decode()
    fay_page = client_for(world.fay).get(reverse("scheduling:my_sessions"))
    assert [s.kind for s in fay_page.context["sessions"]] == [SessionKind.FAMILY]
    olga_page = client_for(world.olga_user).get(reverse("scheduling:my_sessions"))
    assert olga_page.context["sessions"] == []


def test_staff_week_grid_shows_their_own_sessions(published: World, client_for) -> None:
    world = published
    plan = SchedulePlan.objects.get(status=PlanStatus.PUBLISHED)
    facilitator = plan.groups.get().facilitator
    page = client_for(facilitator).get(reverse("scheduling:week"), {"week": plan.week_start.isoformat()})
    assert page.status_code == 200
    shown = [s for row in page.context["rows"] for cell in row["cells"] for s in cell]
    assert set(shown) == set(Session.objects.filter(clinicians=facilitator))
    assert {s.kind for s in shown} >= {SessionKind.GROUP}
    assert "Pat" not in page.content.decode().replace(world.pat_user.username, "")
    assert client_for(facilitator).get(reverse("scheduling:week"), {"week": "garbage"}).status_code == 404
    assert SessionAttendee.objects.filter(session__in=shown).exists()


def test_staff_edit_a_patients_availability(program: World, client_for) -> None:
    world = program
    url = reverse("scheduling:patient_availability", kwargs={"patient_id": world.pat.pk})
    client = client_for(world.carla)  # pat's primary clinician
    response = client.post(url, {"blocks": ["1-2", "3-2", "1-2", "4-0"], "family_sessions": "on"})
    assert response.status_code == 302
    world.pat.availability.refresh_from_db()
    assert world.pat.availability.blocks == [[1, 2], [3, 2], [4, 0]]
    assert world.pat.availability.family_sessions and world.pat.availability.required_hours is None
    entries = AuditEntry.objects.filter(action="update", record_type="scheduling.patientavailability")
    entry = entries.order_by("-seq").first()
    assert entry is not None and entry.actor == world.carla and entry.patient == world.pat
    bad = client.post(url, {"blocks": ["9-9"], "required_hours": "40"})
    assert bad.status_code == 400
    world.pat.availability.refresh_from_db()
    assert world.pat.availability.blocks == [[1, 2], [3, 2], [4, 0]]  # nothing stored
    # cole has no business with pat's record (his break-glass grant aside, tested in the matrix)
    other = reverse("scheduling:patient_availability", kwargs={"patient_id": world.olga.pk})
    assert client.get(other).status_code == 404

"""Publishing a week again: unchanged sessions stay (ids, rooms, notes, attendance), changed ones are updated,
dropped ones cancelled, new ones created; started sessions and signed notes are never touched; the same plan
twice changes nothing and sends nothing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.audit.models import AuditEntry
from openiop.intake.models import Enrollment, EnrollmentStatus
from openiop.outbox.models import OutboxMessage
from openiop.rooms.models import PresenceEvent
from openiop.scheduling import services
from openiop.scheduling.models import (
    PlanAppointment,
    PlanAssignment,
    PlanGroup,
    PlanStatus,
    SchedulePlan,
    Session,
    SessionKind,
    SessionStatus,
)
from openiop.treatment.models import Note, NoteStatus
from tests.conftest import World, enroll, make_patient, make_user

EVENINGS = [(d, 2) for d in range(5)]
MORNINGS = [(d, 0) for d in range(5)]


@pytest.fixture
def week(world: World) -> date:
    """A week two weeks ahead in which Pat has no family session (fewer sessions to follow)."""
    monday = services.monday_of(timezone.localdate()) + timedelta(days=14)
    enrollment = Enrollment.objects.get(patient=world.pat)
    return monday + timedelta(days=7) if services.family_due(world.pat, monday, enrollment) else monday


@pytest.fixture
def program(world: World) -> World:
    services.ensure_pattern(world.track, [2])
    services.set_clinician_availability(world.carla, EVENINGS + MORNINGS, max_hours=30)
    services.set_clinician_availability(world.cole, EVENINGS, max_hours=20)
    for patient in (world.pat, world.quinn, world.rae):
        services.set_patient_availability(actor=None, patient=patient, blocks=EVENINGS + MORNINGS)
    return world


def plan(world: World, week: date) -> SchedulePlan:
    return services.create_plan(actor=world.dora, program=world.harborview, week_start=week, time_limit=5)


def copy_of(published: SchedulePlan) -> SchedulePlan:
    """A draft identical to a published plan (what re-solving an unchanged week gives, without the solver)."""
    copy = SchedulePlan.objects.create(
        program=published.program, week_start=published.week_start, created_by=published.created_by
    )
    groups = {}
    for g in published.groups.all():
        groups[g.pk] = PlanGroup.objects.create(
            plan=copy, therapy_group=g.therapy_group, track=g.track, name=g.name, part=g.part, days=g.days,
            facilitator=g.facilitator,
        )  # fmt: skip
    for a in published.assignments.all():
        group = groups[a.group_id] if a.group_id is not None else None
        PlanAssignment.objects.create(plan=copy, patient=a.patient, group=group, at_dose=a.at_dose)
    for ap in published.appointments.all():
        PlanAppointment.objects.create(
            plan=copy, patient=ap.patient, clinician=ap.clinician, kind=ap.kind, day=ap.day, hour=ap.hour
        )
    return copy


def at(week: date, day: int, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(week + timedelta(days=day), time(hour)))


def snapshot() -> dict[int, tuple[str, str, frozenset[int], frozenset[int]]]:
    """id -> (kind, status, clinicians, patients) of every session."""
    return {
        s.pk: (
            s.kind,
            s.status,
            frozenset(s.clinicians.values_list("pk", flat=True)),
            frozenset(s.attendees.values_list("patient_id", flat=True)),
        )
        for s in Session.objects.all()
    }


def mail_to() -> list[str]:
    return sorted(OutboxMessage.objects.filter(purpose="schedule").values_list("to_address", flat=True))


def test_publishing_the_same_week_again_changes_nothing_and_sends_nothing(
    program: World, week: date, client_for
) -> None:
    world = program
    client = client_for(world.dora)
    first = plan(world, week)
    assert client.post(reverse("scheduling:publish", kwargs={"plan_id": first.pk})).status_code == 302
    before, sent = snapshot(), mail_to()
    assert len(before) == 6 and "pat@example.org" in sent  # three group evenings, three individual sessions
    # the same plan twice: refused, nothing changes
    again = client.post(reverse("scheduling:publish", kwargs={"plan_id": first.pk}))
    assert again.status_code == 409 and snapshot() == before and mail_to() == sent
    # an identical plan built again: the page says nothing will change, and publishing keeps every session
    same = plan(world, week)
    page = client.get(reverse("scheduling:plan_detail", kwargs={"plan_id": same.pk})).content.decode()
    assert "creates 0 sessions, updates 0 (their people change), cancels 0 and leaves 6 exactly" in page
    assert 'id="session-changes"' not in page and 'id="kept-sessions"' not in page
    response = client.post(reverse("scheduling:publish", kwargs={"plan_id": same.pk}), follow=True)
    assert "0 sessions created, 0 updated, 0 cancelled, 6 unchanged; 0 people notified" in response.content.decode()
    assert snapshot() == before and mail_to() == sent  # same ids, same people, no second notice
    first.refresh_from_db()
    same.refresh_from_db()
    assert first.status == PlanStatus.SUPERSEDED and same.status == PlanStatus.PUBLISHED
    assert set(same.sessions.values_list("pk", flat=True)) == set(before)
    entry = AuditEntry.objects.filter(record_type="scheduling.scheduleplan", record_id=str(same.pk)).order_by("-seq")[0]
    assert entry.detail["sessions_unchanged"] == 6 and entry.detail["people_notified"] == 0


def test_a_leaver_and_a_newcomer_touch_only_their_sessions_and_people(program: World, week: date) -> None:
    world = program
    services.publish_plan(actor=world.dora, plan=plan(world, week))
    before = snapshot()
    groups = [pk for pk, row in before.items() if row[0] == SessionKind.GROUP]
    quinns_individual = next(
        pk for pk, row in before.items() if row[0] == SessionKind.INDIVIDUAL and row[3] == {world.quinn.pk}
    )
    pats_individual = next(
        pk for pk, row in before.items() if row[0] == SessionKind.INDIVIDUAL and row[3] == {world.pat.pk}
    )
    OutboxMessage.objects.all().delete()
    # Quinn finishes; Sam (rolling admission) starts with the same evenings
    Enrollment.objects.filter(patient=world.quinn).update(status=EnrollmentStatus.FINISHED)
    sam_user = make_user("sam", Role.PATIENT, world.harborview)
    sam = make_patient(world.harborview, "H-9", sam_user, "Sam")
    enroll(sam, world.track)
    services.set_patient_availability(actor=None, patient=sam, blocks=EVENINGS)
    new = plan(world, week)
    diff = services.session_changes(new)
    assert diff.counts == {
        "unchanged": 2,
        "update": 3,
        "create": 1,
        "cancel": 1,
        "keep": 0,
        "passed": 0,
    }  # Pat's and Rae's
    result = services.publish_plan(actor=world.dora, plan=new)
    assert (result.created, result.updated, result.cancelled, result.unchanged, result.kept) == (1, 3, 1, 2, [])
    after = snapshot()
    # the group's evenings are the same sessions: Quinn off the list, Sam on it (the optimizer may also hand the
    # group to the other clinician: the sessions then change leader in place)
    for pk in groups:
        assert after[pk][3] == (before[pk][3] - {world.quinn.pk}) | {sam.pk}
        assert after[pk][1] == SessionStatus.SCHEDULED and after[pk][2] == {new.groups.get().facilitator_id}
    # Quinn's individual session is cancelled, not deleted; Pat's is untouched; Sam has a new one
    assert after[quinns_individual][1] == SessionStatus.CANCELLED
    assert after[pats_individual] == before[pats_individual]
    created = set(after) - set(before)
    assert len(created) == 1 and after[created.pop()][3] == {sam.pk}
    # only the people concerned hear about it: Quinn, Sam, the group's facilitator(s), the clinicians of the
    # cancelled and the new individual sessions; not Pat (nor Rae, who has no account)
    leaders = {u.email for u in User.objects.filter(pk__in=before[groups[0]][2] | after[groups[0]][2])}
    individual = {
        Session.objects.get(pk=quinns_individual).clinicians.get().email,
        Session.objects.get(attendees__patient=sam, kind=SessionKind.INDIVIDUAL).clinicians.get().email,
    }
    assert mail_to() == sorted({"quinn@example.org", "sam@example.org"} | leaders | individual)
    assert "pat@example.org" not in mail_to() and result.notified == len(mail_to())


def test_started_sessions_and_signed_notes_are_never_touched(program: World, week: date, client_for) -> None:
    world = program
    sunday = at(week, -1, 12)
    services.publish_plan(actor=world.dora, plan=plan(world, week), now=sunday)
    before = snapshot()
    groups = sorted(
        (s for s in Session.objects.filter(kind=SessionKind.GROUP)), key=lambda s: s.starts_at
    )  # three evenings
    first, second, third = groups
    # the second evening already has a signed note (written ahead, say), the third someone in its room
    Note.objects.create(session=second, kind="group", author=second.clinicians.get(), status=NoteStatus.SIGNED)
    PresenceEvent.objects.create(session=third, user=third.clinicians.get(), kind="join", at=sunday)
    # Quinn leaves; it is now the first evening's 20:00
    Enrollment.objects.filter(patient=world.quinn).update(status=EnrollmentStatus.FINISHED)
    now = first.starts_at + timedelta(hours=2)
    new = plan(world, week)
    diff = services.session_changes(new, now)
    kept = {c.session.pk: c.why for c in diff.of(services.Action.KEEP) if c.session is not None}
    assert kept[first.pk] == "it has already started"
    assert kept[second.pk] == "its note is signed"
    assert kept[third.pk] == "people have already joined its room"
    # the plan page (a draft) says so before publishing
    client = client_for(world.dora)
    page = client.get(reverse("scheduling:plan_detail", kwargs={"plan_id": new.pk})).content.decode()
    assert 'id="kept-sessions"' in page and "left as it is, because its note is signed" in page
    result = services.publish_plan(actor=world.dora, plan=new, now=now)
    after = snapshot()
    for session in (first, second, third):
        assert after[session.pk] == before[session.pk]  # Quinn still on the list, still scheduled
    assert any("its note is signed (the plan would: removes Quinn Example" in k for k in result.kept)
    quinns = Session.objects.get(kind=SessionKind.INDIVIDUAL, attendees__patient=world.quinn)
    if quinns.starts_at <= now:  # the plan no longer has it, but it has started: left alone
        assert quinns.status == SessionStatus.SCHEDULED and quinns.pk in kept
    else:
        assert quinns.status == SessionStatus.CANCELLED
    assert set(new.sessions.values_list("pk", flat=True)) >= {first.pk, second.pk, third.pk}


def test_publish_over_http_reports_sessions_left_alone(program: World, week: date, client_for) -> None:
    world = program
    services.publish_plan(actor=world.dora, plan=plan(world, week))
    group = Session.objects.filter(kind=SessionKind.GROUP).order_by("starts_at").first()
    assert group is not None
    Note.objects.create(session=group, kind="group", author=group.clinicians.get(), status=NoteStatus.SIGNED)
    Enrollment.objects.filter(patient=world.quinn).update(status=EnrollmentStatus.FINISHED)
    new = plan(world, week)
    response = client_for(world.dora).post(reverse("scheduling:publish", kwargs={"plan_id": new.pk}), follow=True)
    body = response.content.decode()
    assert "2 updated" in body and "1 cancelled" in body
    assert "left as it is, because its note is signed (the plan would: removes Quinn Example" in body
    assert world.quinn.pk in group.attendees.values_list("patient_id", flat=True)


def test_a_family_session_keeps_its_guests_and_a_new_guest_is_told(world: World) -> None:
    services.ensure_pattern(world.track, [2])
    services.set_clinician_availability(world.carla, EVENINGS + MORNINGS, max_hours=30)
    services.set_clinician_availability(world.cole, EVENINGS, max_hours=20)
    for patient in (world.pat, world.quinn, world.rae):
        services.set_patient_availability(
            actor=None, patient=patient, blocks=EVENINGS + MORNINGS, family_sessions=patient == world.pat
        )
    monday = services.monday_of(timezone.localdate()) + timedelta(days=7)
    enrollment = Enrollment.objects.get(patient=world.pat)
    week = monday if services.family_due(world.pat, monday, enrollment) else monday + timedelta(days=7)
    first = plan(world, week)
    services.publish_plan(actor=world.dora, plan=first)
    family = Session.objects.get(kind=SessionKind.FAMILY)
    assert list(family.family_guests.all()) == [world.fay]
    # Pat shares family sessions with a second person: the same session, one more guest, who (with the session's
    # clinician) is told
    gus = make_user("gus", Role.FAMILY, world.harborview)
    world.pat.family_access.create(family_member=gus, relationship="brother")
    OutboxMessage.objects.all().delete()
    result = services.publish_plan(actor=world.dora, plan=copy_of(first))
    assert result.updated == 1 and result.created == result.cancelled == 0
    assert Session.objects.get(kind=SessionKind.FAMILY) == family
    assert set(family.family_guests.values_list("username", flat=True)) == {"fay", "gus"}
    assert mail_to() == sorted(["gus@example.org", family.clinicians.get().email])


def test_a_session_the_plan_puts_in_the_past_is_reported_not_created(program: World, week: date) -> None:
    world = program
    first = plan(world, week)
    services.publish_plan(actor=world.dora, plan=first, now=at(week, -1, 12))
    # re-planning on Tuesday morning: the new plan wants Pat's individual session on Monday at 9:00
    draft = copy_of(first)
    draft.appointments.filter(patient=world.pat, kind=SessionKind.INDIVIDUAL).update(day=0, hour=9)
    tuesday = at(week, 1, 8)
    diff = services.session_changes(draft, tuesday)
    (passed,) = diff.of(services.Action.PASSED)
    assert passed.wanted is not None and passed.wanted.patients == {world.pat.pk}
    assert services.describe_change(passed, {}) == "not created: the plan puts it at a time that has already passed"
    before = Session.objects.count()
    result = services.publish_plan(actor=world.dora, plan=draft, now=tuesday)
    assert result.passed == 1 and result.created == 0
    assert Session.objects.count() == before and not Session.objects.filter(starts_at=at(week, 0, 9)).exists()
    # a published plan's page compares it with the plan it replaced
    draft.refresh_from_db()
    assert services.plan_changes(draft)[0] == first

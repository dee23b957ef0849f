"""Groups below the minimum size: the plan page lists them with their members and where they could merge, and the
coordinator can merge a draft's small group in one step."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from openiop.audit.models import AuditEntry
from openiop.intake.models import Patient
from openiop.scheduling import services
from openiop.scheduling.explain import GroupFacts, small_groups
from openiop.scheduling.models import (
    GroupSlot,
    PlanAppointment,
    PlanAssignment,
    PlanGroup,
    PlanStatus,
    SchedulePlan,
    SessionKind,
)
from tests.conftest import World, enroll, make_patient

EVENINGS = frozenset((d, 2) for d in range(5))
MORNINGS = frozenset((d, 0) for d in range(5))
NAMES = {"1": "Ann", "2": "Bo", "3": "Cy", "4": "Di", "5": "Ed"}


def group(key: str, members: tuple[str, ...], *, part: int = 2, days: tuple[int, ...] = (0, 2, 4), **kw) -> GroupFacts:
    fields = {"track": "su", "track_label": "Adult SU", "facilitator": "Cole", "minimum": 4, "capacity": 12} | kw
    return GroupFacts(key, f"Group {key}", part=part, days=days, members=members, **fields)  # type: ignore[arg-type]


def test_a_small_group_is_offered_the_group_at_the_same_time_first() -> None:
    small = group("A", ("1", "2"))
    same_time = group("B", ("3", "4", "5"), minimum=3)
    other_time = group("C", ("6",), days=(1, 3, 4), minimum=1)
    result = small_groups(
        [small, same_time, other_time], available={"1": EVENINGS, "2": EVENINGS}, busy={}, names=NAMES
    )
    assert [g.group for g in result] == ["A"]
    a = result[0]
    assert a.members == ("1", "2") and a.minimum == 4
    assert a.reason == "2 members, fewer than the minimum of 4 (led by Cole, meets Mon/Wed/Fri evenings)"
    assert [o.target for o in a.options] == ["B", "C"]
    assert a.options[0].same_time and a.options[0].everyone_fits and a.options[0].size_after == 5
    assert a.fix == "merge it into Group B (at the same time): it would have 5 of 12"


def test_groups_at_their_minimum_or_empty_are_not_listed() -> None:
    full_enough = group("A", ("1", "2", "3", "4"))
    empty = group("B", ())
    assert small_groups([full_enough, empty], available={}, busy={}, names=NAMES) == []


def test_another_time_must_suit_every_member() -> None:
    small = group("A", ("1", "2"), minimum=3)
    mornings = group("M", ("3", "4", "5"), part=0, days=(1, 3, 4), minimum=3)
    available = {"1": EVENINGS | MORNINGS, "2": EVENINGS | {(1, 0), (3, 0)}}  # Bo is not free Friday mornings
    result = small_groups([small, mornings], available=available, busy={}, names=NAMES)
    (a,) = result
    (option,) = a.options
    assert option.fits == ["1"] and option.misfits == {"2": "is not free Fri morning"} and not option.everyone_fits
    assert a.fix == (
        "no other group takes all of them: Ann could join Group M, but Bo is not free Fri morning. "
        "Keep the group running small this week, or ask about another time"
    )


def test_an_individual_session_at_that_time_or_a_full_group_rules_a_merge_out() -> None:
    small = group("A", ("1", "2"))
    mornings = group("M", ("3",), part=0, days=(1, 3, 4), minimum=1)
    full = group("F", tuple(str(n) for n in range(10, 21)), minimum=1)  # 11 of 12: room for one
    available = {"1": EVENINGS | MORNINGS, "2": EVENINGS | MORNINGS}
    result = small_groups([small, mornings, full], available=available, busy={"2": frozenset({(3, 0)})}, names=NAMES)
    (a,) = result
    by_target = {o.target: o for o in a.options}
    assert by_target["M"].misfits == {"2": "has an individual or family session Thu morning"}
    assert by_target["F"].fits == ["1"] and by_target["F"].misfits == {"2": "would not fit: Group F is full"}


def test_nowhere_to_go_says_so() -> None:
    alone = small_groups([group("A", ("1",))], available={}, busy={}, names=NAMES)
    assert alone[0].fix.startswith("it is the only Adult SU group") and alone[0].options == []
    other_track = group("X", ("3", "4", "5", "6"), track="mh", track_label="Adult MH")
    busy_elsewhere = group("B", ("3", "4", "5", "6"), part=0, days=(0, 1, 2))
    result = small_groups(
        [group("A", ("1",)), other_track, busy_elsewhere], available={"1": EVENINGS}, busy={}, names=NAMES
    )
    assert result[0].options == []
    assert result[0].fix == (
        "no other Adult SU group has room at a time they are free (others meet Mon/Tue/Wed mornings): keep it "
        "running small this week, or ask the members whether they could come then"
    )


def test_long_lists_of_reasons_are_cut_short_and_names_that_say_when_are_not_repeated() -> None:
    members = tuple(str(n) for n in range(1, 7))
    # a group the planner made is named after its times
    small = GroupFacts("A", "SU · Mon/Wed/Fri evenings", "su", "Adult SU", 2, (0, 2, 4), "Cole", members, 8, 12)
    mornings = group("M", ("9",), part=0, days=(1, 3, 4), minimum=1)
    available = {"1": EVENINGS | MORNINGS} | {m: EVENINGS for m in members[1:]}
    (a,) = small_groups([small, mornings], available=available, busy={}, names=NAMES)
    assert a.reason == "6 members, fewer than the minimum of 8 (led by Cole)"
    assert a.fix == (
        "no other group takes all of them: Ann could join Group M, but Bo is not free Tue morning, Thu morning, "
        "Fri morning; Cy is not free Tue morning, Thu morning, Fri morning; 3 more cannot come then. Keep the "
        "group running small this week, or ask about another time"
    )


# --- through the plan page -------------------------------------------------------------------------------------


@pytest.fixture
def draft(world: World) -> SchedulePlan:
    """A draft with Evening A (Pat, Quinn: below the minimum of 4), Evening B at the same time (Rae and two more)
    and Morning C (Tue/Thu/Fri mornings, one member) in the same track."""
    extra = [make_patient(world.harborview, f"H-{n}", None, name) for n, name in ((7, "Uma"), (8, "Val"), (9, "Wes"))]
    for p in extra:
        enroll(p, world.track)
    for p in (world.pat, world.quinn, world.rae, *extra):
        services.set_patient_availability(actor=None, patient=p, blocks=[(d, 2) for d in range(5)])
    plan = SchedulePlan.objects.create(program=world.harborview, week_start=date(2026, 12, 7), created_by=world.dora)

    def make(name: str, part: int, days: str, members: list[Patient]) -> PlanGroup:
        row = PlanGroup.objects.create(
            plan=plan, track=world.track, name=name, part=part, days=days, facilitator=world.cole
        )
        PlanAssignment.objects.bulk_create(PlanAssignment(plan=plan, patient=p, group=row) for p in members)
        return row

    make("Evening A", 2, "024", [world.pat, world.quinn])
    make("Evening B", 2, "024", [world.rae, extra[0], extra[1]])
    make("Morning C", 0, "134", [extra[2]])
    PlanAppointment.objects.create(
        plan=plan, patient=world.pat, clinician=world.carla, kind=SessionKind.INDIVIDUAL, day=1, hour=18
    )
    return plan


def page(client: Client, plan: SchedulePlan) -> str:
    response = client.get(reverse("scheduling:plan_detail", kwargs={"plan_id": plan.pk}))
    assert response.status_code == 200
    return response.content.decode()


def test_the_plan_page_lists_small_groups_with_members_and_a_merge(
    world: World, draft: SchedulePlan, client_for
) -> None:
    client = client_for(world.dora)
    body = page(client, draft)
    section = body[body.index('id="small-groups"') : body.index("<h2>Groups</h2>")]
    assert "<strong>Evening A</strong>: 2 / 4" in section and "Pat Example, Quinn Example" in section
    assert "merge it into Evening B (at the same time): it would have 5 of 12" in section
    assert "Merge into Evening B" in section
    # Evening B (3) and Morning C (1) are small too; Wes (Morning C) is free every evening
    assert "<strong>Evening B</strong>: 3 / 4" in section and "<strong>Morning C</strong>: 1 / 4" in section
    assert "merge it into Evening A (and all are free then): it would have 3 of 12" in section
    # the members shown are recorded as read
    reads = AuditEntry.objects.filter(action="read", detail__purpose="schedule-plan", actor=world.dora)
    assert {"Pat", "Quinn", "Wes"} <= set(reads.values_list("patient__given_name", flat=True))


def test_merging_moves_every_member_and_drops_the_emptied_group(world: World, draft: SchedulePlan, client_for) -> None:
    client = client_for(world.dora)
    a = draft.groups.get(name="Evening A")
    b = draft.groups.get(name="Evening B")
    url = reverse("scheduling:merge_groups", kwargs={"plan_id": draft.pk})
    response = client.post(url, {"source": a.pk, "target": b.pk})
    assert response.status_code == 302
    assert not PlanGroup.objects.filter(pk=a.pk).exists()
    assert set(b.members.values_list("patient__given_name", flat=True)) == {"Pat", "Quinn", "Rae", "Uma", "Val"}
    assert draft.assignments.count() == 6  # nobody lost their place in the plan
    entry = AuditEntry.objects.filter(record_type="scheduling.scheduleplan", action="update").get()
    assert entry.actor == world.dora
    assert entry.detail == {"merged_group": "Evening A", "into": "Evening B", "patients_moved": 2}
    section = page(client, draft)
    assert "<strong>Evening A</strong>" not in section and "<strong>Evening B</strong>" not in section


def test_a_merge_that_does_not_suit_everyone_is_refused(world: World, draft: SchedulePlan, client_for) -> None:
    client = client_for(world.dora)
    a = draft.groups.get(name="Evening A")
    c = draft.groups.get(name="Morning C")
    url = reverse("scheduling:merge_groups", kwargs={"plan_id": draft.pk})
    response = client.post(url, {"source": a.pk, "target": c.pk})
    assert response.status_code == 409 and "Not everyone in Evening A fits in Morning C" in response.content.decode()
    assert a.members.count() == 2 and c.members.count() == 1
    assert client.post(url, {"source": a.pk, "target": a.pk}).status_code == 409
    assert client.post(url, {"source": "x"}).status_code == 400


def test_a_published_plan_cannot_be_merged(world: World, draft: SchedulePlan, client_for) -> None:
    SchedulePlan.objects.filter(pk=draft.pk).update(status=PlanStatus.PUBLISHED)
    a = draft.groups.get(name="Evening A")
    b = draft.groups.get(name="Evening B")
    client = client_for(world.dora)
    response = client.post(
        reverse("scheduling:merge_groups", kwargs={"plan_id": draft.pk}), {"source": a.pk, "target": b.pk}
    )
    assert response.status_code == 409 and "Only a draft plan can be changed" in response.content.decode()
    assert a.members.count() == 2
    assert "Merge into" not in page(client, draft)  # the page offers no button either


def test_the_minimum_comes_from_the_setting_or_the_groups_own(
    world: World, draft: SchedulePlan, client_for, settings
) -> None:
    settings.SCHEDULER_GROUP_MINIMUM = 3
    client = client_for(world.dora)
    body = page(client, draft)
    assert "<strong>Evening A</strong>: 2 / 3" in body and "<strong>Evening B</strong>" not in body
    # Evening B's standing group asks for at least 5
    b = draft.groups.get(name="Evening B")
    b.therapy_group = world.group
    b.save(update_fields=["therapy_group"])
    GroupSlot.objects.create(group=world.group, part=2, days="024", minimum_size=5)
    assert "<strong>Evening B</strong>: 3 / 5" in page(client, draft)

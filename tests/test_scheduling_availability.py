"""Clinicians' availability for the weekly schedule: the director's pages, a clinician's own page, the warning
about groups they lead, and what the schedule builder says about clinicians who cannot be scheduled."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEntry
from openiop.scheduling import services
from openiop.scheduling.models import ClinicianAvailability, GroupSlot
from openiop.scheduling.problem import BLOCK_HOURS, PART_START_HOUR
from tests.conftest import World

EVENINGS = ["0-2", "1-2", "2-2", "3-2", "4-2"]


def settings_url(world: World, who: str = "carla") -> str:
    return reverse("scheduling:clinician_availability", kwargs={"clinician_id": getattr(world, who).pk})


def checked(body: str) -> set[str]:
    """The ticked boxes of the week grid on a page."""
    return set(re.findall(r'<input type="checkbox" name="blocks" value="(\d-\d)"[^>]*checked', body))


def test_director_sets_a_clinicians_times_and_limits(world: World, client_for) -> None:
    client = client_for(world.dora)
    response = client.post(
        settings_url(world),
        {"blocks": [*EVENINGS, "1-0"], "max_hours": "24", "max_caseload": "10", "sees_adolescents": "on"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("scheduling:clinicians")
    row = ClinicianAvailability.objects.get(clinician=world.carla)
    assert row.blocks == [[0, 2], [1, 0], [1, 2], [2, 2], [3, 2], [4, 2]]
    assert (row.max_hours, row.max_caseload, row.sees_adolescents) == (24, 10, True)
    entry = AuditEntry.objects.get(record_type="scheduling.clinicianavailability", record_id=str(row.pk))
    assert entry.action == "create" and entry.actor == world.dora and entry.program == world.harborview
    assert entry.detail["max_hours"] == 24 and entry.detail["before"] is None
    # the list shows it in words, and the edit page ticks the same boxes
    listing = client.get(reverse("scheduling:clinicians")).content.decode()
    assert "Tue mornings; Mon–Fri evenings" in listing and "18 h" in listing and "1 of 10" in listing
    assert checked(client.get(settings_url(world)).content.decode()) == {*EVENINGS, "1-0"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_hours", "0", "At least 1 hour a week"),
        ("max_hours", "61", "At most 60 hours a week."),
        ("max_hours", "lots", "Enter a whole number of hours, from 1 to 60."),
        ("max_caseload", "-1", "The caseload cannot be negative."),
        ("max_caseload", "61", "At most 60 patients."),
        ("blocks", "5-0", "Select a valid choice."),
        ("blocks", "0-3", "Select a valid choice."),
    ],
)
def test_bad_values_are_a_400_with_a_clear_message(
    world: World, client_for, field: str, value: str, message: str
) -> None:
    services.set_clinician_availability(world.carla, [(0, 2)], max_hours=20, max_caseload=8)
    data = {"blocks": EVENINGS, "max_hours": "30", "max_caseload": "12", field: value}
    response = client_for(world.dora).post(settings_url(world), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    row = ClinicianAvailability.objects.get(clinician=world.carla)
    assert (row.blocks, row.max_hours, row.max_caseload) == ([[0, 2]], 20, 8)  # nothing stored


def test_the_service_refuses_limits_out_of_range(world: World) -> None:
    for limits in (services.ClinicianLimits(0, 5, False), services.ClinicianLimits(10, 61, False)):
        with pytest.raises(services.ScheduleError):
            services.save_clinician_availability(actor=world.dora, clinician=world.carla, blocks=[], limits=limits)
    with pytest.raises(services.ScheduleError):
        services.save_clinician_availability(actor=world.dora, clinician=world.carla, blocks=[(5, 0)])
    assert not ClinicianAvailability.objects.exists()


def test_a_clinician_changes_only_their_own_times(world: World, client_for) -> None:
    services.set_clinician_availability(world.carla, [(0, 0)], max_hours=20, max_caseload=8)
    client = client_for(world.carla)
    page = client.get(reverse("scheduling:my_availability"))
    body = page.content.decode()
    assert page.status_code == 200 and checked(body) == {"0-0"}
    assert "Your program director sets your hours, caseload" in body and ">20<" in body and ">8<" in body
    # limits in the post are not hers to set and are ignored
    response = client.post(
        reverse("scheduling:my_availability"), {"blocks": EVENINGS, "max_hours": "60", "sees_adolescents": "on"}
    )
    assert response.status_code == 302
    row = ClinicianAvailability.objects.get(clinician=world.carla)
    assert row.blocks == [[d, 2] for d in range(5)]
    assert (row.max_hours, row.max_caseload, row.sees_adolescents) == (20, 8, False)
    entry = AuditEntry.objects.filter(record_type="scheduling.clinicianavailability").order_by("-seq").first()
    assert entry is not None and entry.actor == world.carla and entry.detail["before"]["blocks"] == [[0, 0]]
    # nor may she set anyone else's, or her own limits, through the service
    with pytest.raises(services.ScheduleError):
        services.save_clinician_availability(actor=world.carla, clinician=world.cole, blocks=[(0, 2)])
    with pytest.raises(services.ScheduleError):
        services.save_clinician_availability(
            actor=world.carla, clinician=world.carla, blocks=[], limits=services.ClinicianLimits(60, 60, True)
        )
    # nor may a director of another program
    with pytest.raises(services.ScheduleError):
        services.save_clinician_availability(actor=world.otto, clinician=world.carla, blocks=[(0, 2)])


def test_a_first_save_by_the_clinician_starts_from_the_defaults(world: World, client_for) -> None:
    client = client_for(world.cole)
    body = client.get(reverse("scheduling:my_availability")).content.decode()
    assert "You have no free times set" in body
    assert client.post(reverse("scheduling:my_availability"), {"blocks": ["2-1"]}).status_code == 302
    row = ClinicianAvailability.objects.get(clinician=world.cole)
    defaults = ClinicianAvailability()
    assert row.blocks == [[2, 1]] and row.max_hours == defaults.max_hours
    assert row.max_caseload == defaults.max_caseload and not row.sees_adolescents


@pytest.fixture
def cole_leads_a_standing_group(world: World) -> World:
    """Cole's Relapse prevention A meets Mon/Wed/Fri evenings; Quinn is in it."""
    GroupSlot.objects.create(group=world.group, part=2, days="024")
    services.set_clinician_availability(world.cole, [(d, 2) for d in range(5)])
    return world


def test_dropping_a_time_a_led_group_meets_in_asks_first_and_names_the_group(
    cole_leads_a_standing_group: World, client_for
) -> None:
    world = cole_leads_a_standing_group
    client = client_for(world.cole)
    url = reverse("scheduling:my_availability")
    assert "Relapse prevention A" in client.get(url).content.decode()  # listed as a group he leads
    response = client.post(url, {"blocks": ["0-2", "1-2", "3-2", "4-2"]})  # no Wednesday evening
    assert response.status_code == 409
    body = response.content.decode()
    assert "Relapse prevention A meets Mon/Wed/Fri evenings: without Wed evening" in body
    assert 'name="confirm"' in body
    row = ClinicianAvailability.objects.get(clinician=world.cole)
    assert len(row.blocks) == 5  # not saved
    # keeping Wednesday (and dropping Tuesday) needs no confirmation
    assert client.post(url, {"blocks": ["0-2", "2-2", "3-2", "4-2"]}).status_code == 302
    # confirmed: saved, and the audit entry says which group loses its time
    assert client.post(url, {"blocks": ["0-2", "3-2"], "confirm": "on"}).status_code == 302
    row.refresh_from_db()
    assert row.blocks == [[0, 2], [3, 2]]
    entry = AuditEntry.objects.filter(record_type="scheduling.clinicianavailability").order_by("-seq").first()
    assert entry is not None and entry.detail["groups_losing_time"] == ["Relapse prevention A"]


def test_the_director_gets_the_same_warning(cole_leads_a_standing_group: World, client_for) -> None:
    world = cole_leads_a_standing_group
    client = client_for(world.dora)
    data = {"blocks": ["0-2"], "max_hours": "20", "max_caseload": "5"}
    response = client.post(settings_url(world, "cole"), data)
    assert response.status_code == 409 and "Relapse prevention A meets" in response.content.decode()
    assert "without Wed evening, Fri evening" in response.content.decode()
    assert ClinicianAvailability.objects.get(clinician=world.cole).max_hours == 32  # nothing saved
    assert client.post(settings_url(world, "cole"), {**data, "confirm": "on"}).status_code == 302
    assert ClinicianAvailability.objects.get(clinician=world.cole).max_hours == 20


def test_a_group_that_ended_does_not_count(cole_leads_a_standing_group: World, client_for) -> None:
    world = cole_leads_a_standing_group
    world.group.memberships.update(end_date=timezone.localdate() - timedelta(days=1))
    response = client_for(world.cole).post(reverse("scheduling:my_availability"), {"blocks": ["1-0"]})
    assert response.status_code == 302


def test_schedule_builder_counts_clinicians_who_cannot_be_scheduled(world: World, client_for) -> None:
    client = client_for(world.dora)
    body = client.get(reverse("scheduling:plans")).content.decode()
    # carla and cole have nothing set; carla is pat's primary clinician
    assert "2 clinicians have no availability set and cannot be scheduled" in body
    assert "The 1 patient they are primary clinician for gets someone else" in body
    assert reverse("scheduling:clinicians") in body
    services.set_clinician_availability(world.carla, [(0, 2)])
    services.save_clinician_availability(actor=world.dora, clinician=world.cole, blocks=[])  # a row, but no times
    body = client.get(reverse("scheduling:plans")).content.decode()
    assert "1 clinician has no availability set" in body and "Cole Testperson" in body
    assert "primary clinician for" not in body
    listing = client.get(reverse("scheduling:clinicians")).content.decode()
    assert "Not set: cannot be scheduled" in listing and listing.count("Not set: cannot be scheduled") == 1
    services.set_clinician_availability(world.cole, [(1, 2)])
    assert 'id="unschedulable"' not in client.get(reverse("scheduling:plans")).content.decode()


def test_the_director_cannot_open_someone_who_is_not_an_active_clinician(world: World, client_for) -> None:
    client = client_for(world.dora)
    for person in (world.ivan, world.pat_user, world.oscar):
        url = reverse("scheduling:clinician_availability", kwargs={"clinician_id": person.pk})
        assert client.get(url).status_code == 404
    world.cole.is_active = False
    world.cole.save(update_fields=["is_active"])
    assert client.get(settings_url(world, "cole")).status_code == 404
    assert "Cole" not in client.get(reverse("scheduling:clinicians")).content.decode()


def week_table(body: str) -> str:
    start = body.index('<table class="week-table">')
    return body[start : body.index("</table>", start)]


def test_every_availability_page_shows_the_same_labelled_week_grid(world: World, client_for) -> None:
    services.set_clinician_availability(world.carla, [(1, 0), (4, 2)])
    services.set_patient_availability(actor=None, patient=world.pat, blocks=[(1, 0), (4, 2)])
    pages = [
        client_for(world.dora).get(settings_url(world)),
        client_for(world.carla).get(reverse("scheduling:my_availability")),
        client_for(world.carla).get(reverse("scheduling:patient_availability", kwargs={"patient_id": world.pat.pk})),
    ]
    tables = []
    for page in pages:
        body = page.content.decode()
        assert page.status_code == 200 and checked(body) == {"1-0", "4-2"}
        table = week_table(body)
        assert table.count('type="checkbox"') == 15
        for start in PART_START_HOUR:
            assert f"{start}:00–{start + BLOCK_HOURS}:00" in table
        for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
            assert f'<th scope="col">{day}</th>' in table
        assert '<span class="visually-hidden">Tue morning</span>' in table  # each box has its own name
        tables.append(re.sub(r"\s+", " ", table))
    assert tables[0] == tables[1] == tables[2]


def test_navigation_links_to_the_new_pages(world: World, client_for) -> None:
    clinician_home = client_for(world.carla).get(reverse("scheduling:week")).content.decode()
    assert clinician_home.count(f'href="{reverse("scheduling:my_availability")}"') == 2  # menu and the week page
    director = client_for(world.dora).get(reverse("scheduling:plans")).content.decode()
    assert f'href="{reverse("scheduling:clinicians")}"' in director
    chart = client_for(world.carla).get(reverse("intake:patient_chart", kwargs={"patient_id": world.pat.pk}))
    link = reverse("scheduling:patient_availability", kwargs={"patient_id": world.pat.pk})
    assert link in chart.content.decode()
    # other roles' menus do not offer it
    for person in (world.dora, world.ivan, world.pat_user):
        page = client_for(person).get(reverse("scheduling:calendar_settings"))
        assert page.status_code == 200 and reverse("scheduling:my_availability") not in page.content.decode()

"""The director's program overview: census per track, clinicians' caseloads a page at a time, the same
number of queries whatever the program's size."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.core.homes import CLINICIANS_PER_PAGE
from openiop.intake.models import CareTeamMember, Enrollment, EnrollmentStatus
from openiop.scheduling.models import Focus, Population, Track
from tests.conftest import World, make_patient, make_user


def test_counts_equal_an_independent_count(world: World, client_for) -> None:
    mh = Track.objects.create(
        program=world.harborview, name="Adult MH", slug="mh", population=Population.ADULT, focus=Focus.MENTAL_HEALTH
    )
    start = timezone.localdate() - timedelta(weeks=2)
    statuses = list(EnrollmentStatus)
    for n in range(30):
        patient = make_patient(world.harborview, f"H-O{n}", None, f"O{n}")
        for episode in range(1 + n % 2):  # some came back: two episodes
            Enrollment.objects.create(
                patient=patient, track=[world.track, mh][(n + episode) % 2], status=statuses[(n + episode) % 6],
                start_date=start, planned_end_date=start + timedelta(weeks=10),
            )  # fmt: skip
        CareTeamMember.objects.create(patient=patient, clinician=[world.carla, world.cole][n % 3 % 2])
    page = client_for(world.dora).get(reverse("program_overview"))
    assert page.status_code == 200
    episodes = list(Enrollment.objects.filter(patient__program=world.harborview))
    expected_tracks = [
        (
            track,
            sum(e.track_id == track.pk and e.status == "active" for e in episodes),
            sum(e.track_id == track.pk and e.status == "planned" for e in episodes),
        )
        for track in Track.objects.filter(program=world.harborview).order_by("name")
    ]
    assert page.context["tracks"] == expected_tracks
    assert page.context["active_total"] == len({e.patient_id for e in episodes if e.status == "active"})
    caseloads = {
        clinician: CareTeamMember.objects.filter(clinician=clinician).count()
        for clinician in User.objects.filter(program=world.harborview, role=Role.CLINICIAN)
    }
    assert dict(page.context["clinicians"]) == caseloads
    assert sum(count for _c, count in page.context["clinicians"]) == 31  # Pat's, and the thirty made here


def test_clinicians_come_a_page_at_a_time_in_the_same_number_of_queries(world: World, client_for) -> None:
    dora = client_for(world.dora)
    url = reverse("program_overview")
    dora.get(url)  # warm: session, two-factor device

    def shown(page: int) -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as captured:
            response = dora.get(url, {"page": page})
        assert response.status_code == 200
        return [clinician.username for clinician, _n in response.context["clinicians"]], len(captured)

    names, few = shown(1)
    assert names == ["carla", "cole"]
    for n in range(CLINICIANS_PER_PAGE + 10):
        make_user(f"clin{n:03d}", Role.CLINICIAN, world.harborview)
    make_user("other", Role.CLINICIAN, world.elsewhere)
    everyone = list(
        User.objects.filter(program=world.harborview, role=Role.CLINICIAN)
        .order_by("last_name", "first_name", "pk")
        .values_list("username", flat=True)
    )
    first, many = shown(1)
    second, many_again = shown(2)
    assert first + second == everyone and len(first) == CLINICIANS_PER_PAGE
    assert few == many == many_again
    assert "page=2" in dora.get(url).content.decode()

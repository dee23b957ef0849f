"""No N+1 on the treatment pages: the same number of queries for 3 notes as for 30, and for a group note with
5 attendees as with 30."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.intake.models import Patient
from openiop.treatment.models import Addendum, Note, NotePart, NoteStatus
from tests.conftest import World, make_patient
from tests.test_query_counts import queries
from tests.treatment_fixtures import make_session


def signed_group_notes(world: World, count: int) -> None:
    """`count` signed group notes led by Carla, each with Pat, Quinn and a new member, and an addendum."""
    for n in range(count):
        other = make_patient(world.harborview, f"H-N{Note.objects.count()}-{n}", None, f"Member{n}")
        session = make_session(world, world.carla, [world.pat, world.quinn, other])
        note = Note.objects.create(
            session=session, kind="group", author=world.carla, status=NoteStatus.SIGNED, module="coping-strategies",
            topic="Grounding", observations="Practised breathing.", signed_at=timezone.now(),
        )  # fmt: skip
        NotePart.objects.bulk_create(
            [NotePart(note=note, patient=p, participation="Took part.") for p in (world.pat, world.quinn, other)]
        )
        Addendum.objects.create(note=note, author=world.carla, text=f"Called {other.full_name}.")


PAGES: dict[str, tuple[str, Callable[[World], str]]] = {
    "treatment record": ("carla", lambda w: reverse("treatment:patient_treatment", args=[w.pat.pk])),
    "export": ("carla", lambda w: reverse("treatment:export", args=[w.pat.pk])),
    "progress review": ("carla", lambda w: reverse("treatment:progress_review", args=[w.pat.pk])),
    "portal": ("pat_user", lambda w: reverse("treatment:my_treatment")),
    "sessions": ("carla", lambda w: reverse("treatment:sessions")),
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_query_count_does_not_grow_with_notes(world: World, client_for, page: str) -> None:
    who, url = PAGES[page]
    client = client_for(getattr(world, who))
    signed_group_notes(world, 3)
    queries(client, url(world))  # warm
    small = queries(client, url(world))
    signed_group_notes(world, 27)
    large = queries(client, url(world))
    assert large == small, f"{page}: {small} queries with 3 notes, {large} with 30"


def test_group_note_page_does_not_grow_with_attendees(world: World, client_for) -> None:
    client = client_for(world.carla)
    counts = []
    for size in (5, 30):
        members = [make_patient(world.harborview, f"H-A{size}-{n}", None, f"A{n}") for n in range(size)]
        session = make_session(world, world.carla, members)
        url = reverse("treatment:session_note", args=[session.pk])
        queries(client, url)
        counts.append(queries(client, url))
        assert Patient.objects.filter(session_attendances__session=session).count() == size
    assert counts[0] == counts[1], f"note page: {counts[0]} queries for 5 attendees, {counts[1]} for 30"

"""The public program page, the track finder, the patient's portal, messages, family sessions,
settings and the language switcher (openiop/portal)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from openiop.audit.models import AuditEntry
from openiop.outbox.models import OutboxMessage
from openiop.portal.models import CareMessage, FaqEntry, Modality, Preferences, ProgramPage, TimeOfDay, TrackListing
from openiop.scheduling.models import Focus, Population, Session, SessionAttendee, SessionKind, SessionStatus, Track
from tests.conftest import World


@pytest.fixture
def page(world: World) -> ProgramPage:
    page = ProgramPage.objects.create(
        program=world.harborview, published=True, phone="617-555-0100", insurance="Tufts Health Plan",
        massachusetts_label="Substance-use day treatment (SOAP)", city="Boston",
    )  # fmt: skip
    FaqEntry.objects.create(page=page, question="Do I need a referral?", answer="No.")
    TrackListing.objects.create(
        track=world.track, modality=Modality.VIRTUAL, time_of_day=TimeOfDay.EVENING, hours_per_week=9
    )
    teens = Track.objects.create(
        program=world.harborview, name="Teens after school", slug="teens", population=Population.ADOLESCENT,
        focus=Focus.MENTAL_HEALTH,
    )  # fmt: skip
    TrackListing.objects.create(
        track=teens, modality=Modality.VIRTUAL, time_of_day=TimeOfDay.AFTERNOON, hours_per_week=6
    )
    return page


def session_for(world: World, *, starts_in: timedelta, minutes: int = 180, kind: str = SessionKind.GROUP) -> Session:
    starts = timezone.now() + starts_in
    session = Session.objects.create(
        program=world.harborview, kind=kind, track=world.track, title="Relapse prevention: triggers",
        module="relapse-triggers", starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
    )  # fmt: skip
    SessionAttendee.objects.create(session=session, patient=world.pat)
    return session


def test_public_page_shows_program_facts_json_ld_and_crisis_lines(page: ProgramPage) -> None:
    response = Client().get(reverse("portal:program_page", kwargs={"slug": page.program.slug}))
    body = response.content.decode()
    assert response.status_code == 200
    expected = ["Harborview", "MassHealth", "Tufts Health Plan", "Substance-use day treatment (SOAP)"]
    expected += ["Adult SU evenings", "9 hours a week", "Any week (rolling admission)", "Do I need a referral?"]
    for text in expected:
        assert text in body, text
    assert "988" in body and "833-773-2445" in body and "911" in body
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    assert data["@type"] == "MedicalClinic" and data["telephone"] == "617-555-0100"
    assert {t["name"] for t in data["availableService"]} == {"Adult SU evenings", "Teens after school"}
    assert all(t["@type"] == "MedicalTherapy" for t in data["availableService"])
    assert "MassHealth" in data["healthPlanNetworkId"]


def test_an_unpublished_page_is_not_found(page: ProgramPage) -> None:
    ProgramPage.objects.filter(pk=page.pk).update(published=False)
    assert Client().get(reverse("portal:program_page", kwargs={"slug": page.program.slug})).status_code == 404


def test_track_finder_suggests_and_prefills_the_referral(page: ProgramPage) -> None:
    url = reverse("portal:track_finder", kwargs={"slug": page.program.slug})
    response = Client().get(url, {"age": "16", "focus": "mental-health", "times": "afternoon", "modality": "virtual"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Teens after school" in body and "Adult SU evenings" not in body
    refer = reverse("portal:self_referral", kwargs={"slug": page.program.slug})
    assert (
        f"{refer}?track=teens&amp;age_group=adolescent&amp;focus=mental-health&amp;time=afternoon&amp;modality=virtual"
        in body
    )
    link = re.search(r'href="([^"]*refer[^"]*)"', body)
    assert link is not None and "16" not in link.group(1)


def test_track_finder_answers_bad_input_with_400(page: ProgramPage) -> None:
    url = reverse("portal:track_finder", kwargs={"slug": page.program.slug})
    response = Client().get(url, {"age": "abc", "focus": "nonsense", "modality": "either"})
    assert response.status_code == 400
    assert b"Enter a whole number." in response.content


def test_the_track_finder_link_opens_intake_form_pre_filled(page: ProgramPage) -> None:
    client = Client()
    start = reverse("portal:self_referral", kwargs={"slug": page.program.slug})
    response = client.get(
        start + "?track=teens&age_group=adolescent&focus=co-occurring&time=afternoon&modality=virtual"
    )
    target = reverse("referrals:refer", kwargs={"program_slug": page.program.slug})
    assert response.status_code == 302 and response["Location"].startswith(target + "?track=teens")
    form = client.get(response["Location"]).context["form"]
    assert form.initial["concern_substance_use"] and form.initial["concern_mental_health"]
    assert form.initial["attendance"] == "virtual"
    assert form.initial["availability"] == [
        "mon-afternoon",
        "tue-afternoon",
        "wed-afternoon",
        "thu-afternoon",
        "fri-afternoon",
    ]
    plain = client.get(target + "?modality=teleport&time=midnight&focus=<b>")
    assert plain.status_code == 200 and set(plain.context["form"].initial) == {"form_token"}


def test_today_shows_the_next_session_week_hours_and_placeholders(world: World, client_for, settings) -> None:
    settings.ROOM_OPENS_MINUTES_BEFORE = 10
    session_for(world, starts_in=timedelta(hours=2))
    cancelled = session_for(world, starts_in=timedelta(hours=1))
    Session.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)
    response = client_for(world.pat_user).get(reverse("portal:today"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Hello, Pat" in body and "Group therapy" in body
    assert "of 9 hours scheduled this week" in body
    # The session room exists: a join button, not yet clickable two hours ahead.
    assert "Joining by video from here is not available yet" not in body and 'aria-disabled="true"' in body
    assert "Nothing to fill in right now." in body
    # Once the track schedules the PHQ-9, it is waiting for Pat on Today with a link to fill it in.
    from openiop.measures.models import MeasureSchedule
    from openiop.measures.services import builtin_questionnaire

    MeasureSchedule.objects.create(track=world.track, questionnaire=builtin_questionnaire("phq9"))
    body = client_for(world.pat_user).get(reverse("portal:today")).content.decode()
    assert reverse("measures:fill", kwargs={"slug": "phq9"}) in body
    # Goals show once the plan is signed by both (a draft's goals do not).
    from openiop.treatment.models import PlanStatus
    from tests.treatment_fixtures import plan_of

    plan = plan_of(world, "pat")
    assert "Feel better" not in client_for(world.pat_user).get(reverse("portal:today")).content.decode()
    type(plan).objects.filter(pk=plan.pk).update(status=PlanStatus.ACTIVE)
    assert "Feel better" in client_for(world.pat_user).get(reverse("portal:today")).content.decode()
    # Nothing clinical from the session (its title or module) is shown on the patient's Today.
    assert "triggers" not in body
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry is not None
    assert entry.action == "read" and entry.patient == world.pat and entry.detail["purpose"] == "portal-today"


def test_join_button_lights_up_when_the_room_opens(world: World, client_for, settings, monkeypatch) -> None:
    from openiop.portal import links

    monkeypatch.setattr(links, "room_join_url", lambda session: f"/rooms/{session.pk}/")
    settings.ROOM_OPENS_MINUTES_BEFORE = 10
    soon = session_for(world, starts_in=timedelta(minutes=30))
    client = client_for(world.pat_user)
    body = client.get(reverse("portal:today")).content.decode()
    assert 'aria-disabled="true"' in body and f' href="/rooms/{soon.pk}/"' not in body
    Session.objects.filter(pk=soon.pk).update(
        starts_at=timezone.now() + timedelta(minutes=5), ends_at=timezone.now() + timedelta(hours=1)
    )
    body = client.get(reverse("portal:today")).content.decode()
    assert f' href="/rooms/{soon.pk}/"' in body


def test_patient_message_reaches_the_care_team_with_a_detail_free_nudge(world: World, client_for) -> None:
    client = client_for(world.pat_user)
    response = client.post(reverse("portal:messages"), {"body": "I cannot come Thursday, my PHQ is bad"})
    assert response.status_code == 302
    message = CareMessage.objects.get()
    assert message.patient == world.pat and message.from_patient and message.author == world.pat_user
    nudge = OutboxMessage.objects.get(purpose="portal-message")
    assert nudge.to_address == world.carla.email  # Pat's care team
    assert "Thursday" not in nudge.subject + nudge.body and "PHQ" not in nudge.body and "Pat" not in nudge.body
    assert AuditEntry.objects.filter(action="create", record_type="portal.caremessage", patient=world.pat).exists()
    # Carla reads it on her side, replies; Pat gets a nudge, and sees the reply.
    carla = client_for(world.carla)
    thread = carla.get(reverse("portal:staff_messages", kwargs={"patient_id": world.pat.pk}))
    assert b"I cannot come Thursday" in thread.content
    assert CareMessage.objects.get(pk=message.pk).read_at is not None
    carla.post(reverse("portal:staff_messages", kwargs={"patient_id": world.pat.pk}), {"body": "Thanks, noted."})
    to_pat = OutboxMessage.objects.filter(to_address=world.pat_user.email).get()
    assert "noted" not in to_pat.body
    assert b"Thanks, noted." in client.get(reverse("portal:messages")).content


def test_an_empty_message_is_a_400_and_stores_nothing(world: World, client_for) -> None:
    response = client_for(world.pat_user).post(reverse("portal:messages"), {"body": "   "})
    assert response.status_code == 400
    assert not CareMessage.objects.exists() and not OutboxMessage.objects.exists()


def test_clinician_cannot_message_a_patient_outside_their_care(world: World, client_for) -> None:
    response = client_for(world.carla).post(
        reverse("portal:staff_messages", kwargs={"patient_id": world.quinn.pk}), {"body": "hello"}
    )
    assert response.status_code == 404 and not CareMessage.objects.exists()


def test_family_sees_family_sessions_only_when_granted(world: World, client_for) -> None:
    session_for(world, starts_in=timedelta(days=2), kind=SessionKind.FAMILY, minutes=60)
    session_for(world, starts_in=timedelta(days=1))  # a group session: never shown to family
    url = reverse("intake:family_patient", kwargs={"patient_id": world.pat.pk})
    body = client_for(world.fay).get(url).content.decode()
    assert body.count('class="when"') == 1 and "Family session" in body
    world.pat.family_access.update(may_see_family_sessions=False)
    body = client_for(world.fay).get(url).content.decode()
    assert 'class="when"' not in body and "Not shared with you." in body


def test_settings_save_channels_and_language(world: World, client_for) -> None:
    client = client_for(world.fay)
    response = client.post(
        reverse("portal:settings"),
        {"language": "ht", "remind_by_email": "on", "remind_by_sms": "on", "sms_number": "617-555-0199"},
    )
    assert response.status_code == 302
    prefs = Preferences.objects.get(user=world.fay)
    # Family members have no message thread, so no "email me about messages" box; it keeps its default.
    assert (prefs.language, prefs.remind_by_sms, prefs.sms_number, prefs.nudge_about_messages) == (
        "ht", True, "617-555-0199", True,
    )  # fmt: skip
    assert AuditEntry.objects.filter(action="update", record_type="portal.preferences", actor=world.fay).exists()
    page = client.get(reverse("portal:settings")).content.decode()
    assert "Paramèt" in page and "nudge_about_messages" not in page
    assert "nudge_about_messages" in client_for(world.pat_user).get(reverse("portal:settings")).content.decode()


def test_settings_refuse_texts_without_a_number(world: World, client_for) -> None:
    response = client_for(world.pat_user).post(reverse("portal:settings"), {"language": "en", "remind_by_sms": "on"})
    assert response.status_code == 400 and not Preferences.objects.exists()


@pytest.mark.parametrize(
    ("code", "heading"),
    [("es", "¿Qué grupo me conviene?"), ("pt-br", "Qual trilha combina comigo?"), ("ht", "Ki pakou ki bon pou mwen?")],
)
def test_language_switcher_remembers_the_choice(page: ProgramPage, code: str, heading: str) -> None:
    client = Client()
    url = reverse("portal:track_finder", kwargs={"slug": page.program.slug})
    response = client.post(reverse("portal:set_language"), {"language": code}, HTTP_REFERER="http://testserver" + url)
    assert response.status_code == 302 and response["Location"] == "http://testserver" + url
    body = client.get(url).content.decode()
    assert f'<html lang="{code}">' in body and heading in body


def test_signed_in_choice_is_saved_and_used_at_the_next_sign_in(world: World, client_for) -> None:
    client = client_for(world.pat_user)
    client.post(reverse("portal:set_language"), {"language": "es", "next": "/portal/"})
    assert Preferences.objects.get(user=world.pat_user).language == "es"
    fresh = Client()  # another device: no cookie
    fresh.post(reverse("accounts:login"), {"username": "pat", "password": "correct-horse-battery-staple"})
    assert "Hola, Pat" in fresh.get(reverse("portal:today")).content.decode()


def test_dates_follow_the_language(world: World, client_for) -> None:
    session_for(world, starts_in=timedelta(days=3))
    client = client_for(world.pat_user)
    client.post(reverse("portal:set_language"), {"language": "ht"})
    start = timezone.localtime(Session.objects.get().starts_at)
    months = ["janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm", "oktòb", "novanm", "desanm"]
    body = client.get(reverse("portal:schedule")).content.decode()
    assert f"{start.day} {months[start.month - 1]} {start.year}" in body


def test_unknown_language_is_refused(world: World) -> None:
    assert Client().post(reverse("portal:set_language"), {"language": "xx"}).status_code == 400


def test_director_edits_the_public_page(world: World, client_for) -> None:
    client = client_for(world.dora)
    data = {
        "published": "on", "typical_length": "8-12", "rolling_admission": "on", "accepts_masshealth": "on",
        "about": "We help.", "faq-TOTAL_FORMS": "2", "faq-INITIAL_FORMS": "0", "faq-MIN_NUM_FORMS": "0",
        "faq-MAX_NUM_FORMS": "30", "faq-0-question": "Is it online?", "faq-0-answer": "Yes.",
        "faq-1-question": "", "faq-1-answer": "",
    }  # fmt: skip
    assert client.post(reverse("portal:edit_page"), data).status_code == 302
    page = ProgramPage.objects.get(program=world.harborview)
    assert page.published and [f.question for f in page.faq.all()] == ["Is it online?"]
    assert AuditEntry.objects.filter(action="update", record_type="portal.programpage", actor=world.dora).exists()
    assert (
        b"Is it online?" in Client().get(reverse("portal:program_page", kwargs={"slug": world.harborview.slug})).content
    )


def test_service_worker_caches_the_shell_only(world: World) -> None:
    response = Client().get(reverse("portal:service_worker"))
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    found = re.search(r"const SHELL = (\[.*?\]);", body)
    assert found is not None
    shell = json.loads(found.group(1))
    assert shell and all(url.startswith("/static/") or url == reverse("portal:offline") for url in shell)
    assert "/portal/" not in shell and "/me/" not in shell
    manifest = Client().get(reverse("portal:manifest")).json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"


@pytest.mark.parametrize(("language", "shown"), [("en", False), ("es", False), ("ht", True), ("pt-br", True)])
def test_instrument_pages_say_when_the_form_is_in_english(language: str, shown: bool) -> None:
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override(language):
        html = render_to_string("portal/_english_only_notice.html", {"available": ["en", "es"]})
    assert ('class="warn-box"' in html) is shown


def test_the_care_team_gets_a_live_notice_without_the_text(
    world: World, client_for, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from openiop.core import live

    sent: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(live, "_send", lambda group, payload: sent.append((group, payload)))
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.pat_user).post(reverse("portal:messages"), {"body": "My sister is coming Tuesday"})
    assert [group for group, _ in sent] == [live.user_group(world.carla.pk)]
    assert "Tuesday" not in str(sent[0][1]) and "Pat" not in str(sent[0][1])
    chart = client_for(world.carla).get(reverse("intake:patient_chart", kwargs={"patient_id": world.pat.pk}))
    assert reverse("portal:staff_messages", kwargs={"patient_id": world.pat.pk}).encode() in chart.content

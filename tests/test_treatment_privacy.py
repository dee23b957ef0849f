"""Over a whole demo program: no other member's name appears anywhere in a patient's treatment record, portal
or export (including the discharge PDF), although the demo's group notes have addenda that name members."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from openiop.accounts.models import Role, User
from openiop.intake.models import CareTeamMember, EnrollmentStatus, Patient
from openiop.treatment.models import Addendum, DischargeSummary, NoteStatus
from tests.conftest import sign_in
from tests.test_demo import seed
from tests.test_treatment_reviews import pdf_text


@pytest.mark.django_db
def test_no_other_members_name_in_any_patients_record_portal_or_export() -> None:
    seed(40, 11)
    patients = list(Patient.objects.select_related("user").order_by("pk"))
    people = {user.get_full_name() for user in User.objects.exclude(role=Role.PATIENT)}
    named = {a.note_id: a.text for a in Addendum.objects.filter(note__status=NoteStatus.SIGNED)}
    assert len(named) >= 4, "the demo should have signed group notes whose addenda name a member"
    primary = {
        m.patient_id: m.clinician for m in CareTeamMember.objects.filter(is_primary=True).select_related("clinician")
    }
    checked = 0
    for patient in patients:
        own = patient.full_name
        # Names that identify another patient (not the person's own, not a staff member's or family member's).
        others = {p.full_name for p in patients if p.full_name != own} - people
        assert patient.user is not None
        portal = sign_in(Client(), patient.user)
        pages = {
            "portal": portal.get(reverse("treatment:my_treatment")).content.decode(),
            "today": portal.get(reverse("intake:patient_today")).content.decode(),
        }
        summary = DischargeSummary.objects.filter(enrollment__patient=patient).first()
        if summary is not None:
            pages["pdf"] = pdf_text(portal.get(reverse("treatment:discharge_pdf", args=[summary.pk])).content)
            assert own in pages["pdf"]
        if patient.pk in primary:
            staff = sign_in(Client(), primary[patient.pk])
            pages["record"] = staff.get(reverse("treatment:patient_treatment", args=[patient.pk])).content.decode()
            pages["export"] = staff.get(reverse("treatment:export", args=[patient.pk])).content.decode()
            if patient.enrollments.filter(status=EnrollmentStatus.ACTIVE).exists():
                pages["review"] = staff.get(reverse("treatment:progress_review", args=[patient.pk])).content.decode()
        for where, text in pages.items():
            leaked = [name for name in others if name in text]
            assert not leaked, f"{where} of {patient.record_number} names {leaked}"
            checked += 1
        # Positive control: the member an addendum names still sees it, with their own name, in their copy.
        if any(own in text for text in named.values()) and own not in people:
            assert f"Called {own} after group" in pages["portal"]
    assert checked > 100

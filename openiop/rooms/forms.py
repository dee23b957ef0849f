from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from openiop.accounts.models import Role, User
from openiop.intake.models import FamilyAccess, Patient
from openiop.rooms.models import AttendanceStatus
from openiop.scheduling.models import SessionKind


class NewSessionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of session"), choices=SessionKind.choices, initial=SessionKind.INDIVIDUAL)
    title = forms.CharField(label=_("Title (optional)"), max_length=200, required=False)
    starts_at = forms.DateTimeField(
        label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    minutes = forms.IntegerField(label=_("Length in minutes"), min_value=15, max_value=240, initial=60)
    patients = forms.ModelMultipleChoiceField(
        label=_("Patients"), queryset=Patient.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    family_guests = forms.ModelMultipleChoiceField(
        label=_("Family members (family sessions only)"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Only people the patient has allowed to join family sessions are listed."),
    )

    def __init__(self, *args: Any, patients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patients"].queryset = patients  # type: ignore[attr-defined]
        self.fields["patients"].label_from_instance = lambda p: f"{p.full_name} ({p.record_number})"  # type: ignore[attr-defined]
        grants = (
            FamilyAccess.objects.filter(
                patient__in=patients, status=FamilyAccess.Status.ACTIVE, may_see_family_sessions=True
            )
            .filter(Q(consent__isnull=True) | Q(consent__status="active"))
            .select_related("patient")
        )
        self.fields["family_guests"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            role=Role.FAMILY, pk__in=grants.values("family_member")
        )
        for_whom: dict[int, list[str]] = {}
        for grant in grants:
            for_whom.setdefault(grant.family_member_id, []).append(grant.patient.full_name)

        def guest_label(user: User) -> str:
            return _("%(name)s (for %(patients)s)") % {
                "name": user.display_name,
                "patients": ", ".join(for_whom.get(user.pk, [])),
            }

        setattr(self.fields["family_guests"], "label_from_instance", guest_label)  # noqa: B010 -- per instance
        if not self.is_bound:
            start = timezone.localtime() + timedelta(minutes=5)
            self.initial["starts_at"] = start.replace(second=0, microsecond=0)


class SafetyCheckForm(forms.Form):
    at_home = forms.BooleanField(label=_("I am at my home address"), required=False)
    location = forms.CharField(
        label=_("Where are you right now?"),
        max_length=300,
        required=False,
        help_text=_("An address, so help can reach you in an emergency."),
    )
    callback_phone = forms.RegexField(
        label=_("A phone number we can call you back on"),
        regex=r"^[0-9+()\-. ]{7,30}$",
        max_length=40,
        error_messages={"invalid": _("Enter a phone number (digits, spaces, + ( ) - .).")},
    )
    private_place = forms.BooleanField(
        label=_("I am in a private place where others cannot overhear"),
        error_messages={"required": _("Please find a private place before you join.")},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("at_home") and not (data.get("location") or "").strip():
            self.add_error("location", _("Tell us where you are, or tick 'I am at my home address'."))
        return data


class CorrectionForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=AttendanceStatus.choices, widget=forms.Select(attrs={"aria-label": _("Status")})
    )
    minutes = forms.IntegerField(
        label=_("Minutes attended"),
        min_value=0,
        max_value=24 * 60,
        widget=forms.NumberInput(attrs={"aria-label": _("Minutes attended")}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        min_length=5,
        max_length=500,
        widget=forms.TextInput(attrs={"aria-label": _("Reason"), "placeholder": _("Reason for the correction")}),
    )

from __future__ import annotations

import base64
from collections.abc import Iterable
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.models import Device

from openiop.accounts import access, services
from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.forms import BreakGlassForm, CodeForm, InviteStaffForm, SignInForm
from openiop.accounts.middleware import idle_seconds_left
from openiop.accounts.models import STAFF_ROLES, Role, User


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


class InvalidFormIs400:
    """Django's auth views answer an invalid form with 200; here, like every
    other form in OpenIOP, bad input is a 400 with the form and its messages."""

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)  # type: ignore[attr-defined]


class SignInView(InvalidFormIs400, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["signed_out_idle"] = self.request.GET.get("idle") == "1"
        context["idle_minutes"] = settings.IDLE_LOGOUT_SECONDS // 60
        return context

    def get_redirect_url(self, request: HttpRequest | None = None) -> str:
        # ?next= pointing back at this page would make Django's LoginView
        # raise (a redirect loop for the signed-in); go home instead.
        request = request or self.request
        url = super().get_redirect_url(request)
        return "" if url.split("?", 1)[0] == request.path else url


class SignOutView(auth_views.LogoutView):
    template_name = "accounts/logged_out.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("reason") == "idle":  # sent by session.js when the warning runs out
            request.logout_reason = "idle"  # type: ignore[attr-defined]
        return super().post(request, *args, **kwargs)


@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Second step of a staff sign-in: the code from their authenticator."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    person = acting_person(request)
    if not person.is_program_staff or person.is_verified():  # type: ignore[attr-defined]
        return redirect(_safe_next(request, reverse("home")))
    if not any(devices_for_user(person)):
        return redirect("accounts:two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _throttled(devices_for_user(person)):
            form.add_error("code", THROTTLED)
        else:
            device = match_token(person, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return redirect(_safe_next(request, reverse("home")))
            form.add_error("code", _("That code did not match. Codes change every 30 seconds; try the current one."))
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/two_factor.html", {"form": form}, status=status)


THROTTLED = _lazy("Too many wrong codes in a row. Wait a few seconds, then enter the current code.")


def _throttled(devices: Iterable[Device]) -> bool:
    """django-otp backs off after wrong codes; say so instead of "did not match"."""
    return any(not device.verify_is_allowed()[0] for device in devices)


PENDING_DEVICE_KEY = "openiop_pending_totp_device"


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Staff enrol an authenticator app before they can reach patient data."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    person = acting_person(request)
    if not person.is_program_staff or person.is_verified():  # type: ignore[attr-defined]
        return redirect(_safe_next(request, reverse("home")))
    if any(devices_for_user(person)):
        return redirect("accounts:two_factor")
    device = services.start_totp_enrolment(person, request.session.get(PENDING_DEVICE_KEY))
    request.session[PENDING_DEVICE_KEY] = device.pk
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _throttled([device]):
        form.add_error("code", THROTTLED)
    elif request.method == "POST" and form.is_valid():
        if services.confirm_totp_enrolment(person, device, form.cleaned_data["code"], request):
            messages.success(request, _("Two-factor sign-in is set up. You will be asked for a code at each sign-in."))
            return redirect(_safe_next(request, reverse("home")))
        form.add_error("code", _("That code did not match. Check the clock on your phone and try the current code."))
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "qr_svg": _qr_svg(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.usable_invitation(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = SetPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(token, form.cleaned_data["new_password1"])
        except services.ServiceError as error:
            return render(request, "accounts/invitation_invalid.html", {"error": str(error)}, status=404)
        messages.success(request, _("Your password is set. Sign in to continue."))
        return redirect("accounts:login")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/accept_invitation.html", {"form": form, "person": invitation.user}, status=status)


class PasswordChangeView(InvalidFormIs400, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.record_password_change(acting_person(self.request))
        messages.success(self.request, _("Your password is changed."))
        return response


class PasswordResetView(InvalidFormIs400, auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(InvalidFormIs400, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:  # type: ignore[type-arg]
        response = super().form_valid(form)
        services.record_password_change(form.user, how="reset by email")
        # A new password also lifts a sign-in lock-out for that person.
        axes_reset(username=form.user.get_username())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@require_GET
def session_status(request: HttpRequest) -> JsonResponse:
    """How long until automatic log-off. Polling this is not activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "seconds_left": 0}, status=401)
    left = max(0, int(idle_seconds_left(request.session)))
    return JsonResponse({"signed_in": True, "seconds_left": left})


@require_POST
def keepalive(request: HttpRequest) -> JsonResponse:
    """ "Stay signed in": the request itself counts as activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "seconds_left": 0}, status=401)
    return JsonResponse({"signed_in": True, "seconds_left": settings.IDLE_LOGOUT_SECONDS})


def _tell_about_invitation(request: HttpRequest, issued: services.IssuedInvitation) -> None:
    """The link itself is a key to the account: it goes only to the person's
    email. Only where no mail server is set up (a demo, a trial) does the
    director see it, to pass on by hand."""
    values = {"email": issued.invitation.user.email, "days": settings.INVITATION_DAYS, "url": issued.url}
    if settings.EMAIL_CONFIGURED:
        messages.success(request, _("Invitation sent to %(email)s. The link works for %(days)d days.") % values)
    else:
        messages.warning(
            request,
            _(
                "No mail server is set up, so nothing was emailed. "
                "Give %(email)s this link (it works for %(days)d days): %(url)s"
            )
            % values,
        )


@role_required(Role.DIRECTOR)
@require_http_methods(["GET", "POST"])
def people(request: HttpRequest) -> HttpResponse:
    """The program's people, and inviting staff."""
    director = acting_person(request)
    form = InviteStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.invite_staff(director, **form.cleaned_data)
        except services.ServiceError as error:
            form.add_error("username", str(error))
        else:
            _tell_about_invitation(request, issued)
            return redirect("people")
    staff = (
        User.objects.filter(program_id=director.program_pk, role__in=STAFF_ROLES)
        .annotate(
            caseload_size=Count("care_team_roles", distinct=True),
            confirmed_devices=Count("totpdevice", filter=Q(totpdevice__confirmed=True), distinct=True),
        )
        .order_by("role", "last_name", "first_name")
    )
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/people.html", {"form": form, "staff": staff}, status=status)


@role_required(Role.CLINICIAN)
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest) -> HttpResponse:
    """Emergency access to a record outside the clinician's caseload."""
    clinician = acting_person(request)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = access.patient_by_record_number_for_break_glass(clinician, form.cleaned_data["record_number"])
        if patient is None:
            form.add_error("record_number", _("No patient in your program has that record number."))
        else:
            try:
                services.grant_break_glass(clinician, patient, form.cleaned_data["reason"])
            except services.ServiceError as error:
                form.add_error("reason", str(error))
            else:
                messages.warning(
                    request,
                    _("Break-glass access granted for %(minutes)d minutes. The program director has been notified.")
                    % {"minutes": settings.BREAK_GLASS_MINUTES},
                )
                return redirect("intake:patient_chart", patient_id=patient.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/break_glass.html", {"form": form}, status=status)


@role_required(Role.DIRECTOR)
@require_POST
def review_break_glass(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = access.break_glass_grant_for_director(request, grant_id)
    services.review_break_glass(acting_person(request), grant)
    messages.success(request, _("Marked as reviewed."))
    return redirect("program_overview")


@role_required(Role.DIRECTOR)
@require_POST
def manage_person(request: HttpRequest, person_id: int) -> HttpResponse:
    """The director's actions on one staff member: resend the invitation,
    reset two-factor (lost phone), deactivate or reactivate."""
    director = acting_person(request)
    person = access.staff_member_for_director(request, person_id)
    action = request.POST.get("action", "")
    try:
        if action == "resend":
            _tell_about_invitation(request, services.resend_invitation(director, person))
        elif action == "reset-two-factor":
            services.reset_two_factor(director, person)
            messages.success(
                request,
                _("%(name)s will set up two-factor sign-in again when they next sign in.")
                % {"name": person.display_name},
            )
        elif action in ("deactivate", "reactivate"):
            services.set_active(director, person, active=action == "reactivate")
            messages.success(request, _("Saved."))
        else:
            return render(request, "errors/400.html", status=400)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return redirect("people")
    return redirect("people")

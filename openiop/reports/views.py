"""The director's dashboard: figures as server-side SVG charts, each drilling down to its list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from openiop.accounts.decorators import acting_person, role_required
from openiop.accounts.models import Program, Role
from openiop.audit import services as audit
from openiop.intake.models import Patient
from openiop.reports import billing, charts, export, metrics
from openiop.reports.forms import CareListForm, DashboardFilterForm, DrillDownForm


def _svg(markup: str) -> SafeString:
    """charts.py escapes every piece of text it is given, so its output can go into the page as is."""
    return mark_safe(markup)  # noqa: S308


def _filters(form: DashboardFilterForm) -> metrics.Filters:
    data = form.cleaned_data
    return metrics.Filters(start=data["start"], end=data["end"], track=data.get("track"))


def _query(filters: metrics.Filters, **extra: str) -> str:
    params = {"start": filters.start.isoformat(), "end": filters.end.isoformat(), **extra}
    if filters.track is not None:
        params["track"] = str(filters.track.pk)
    return "?" + urlencode(params)


@role_required(Role.DIRECTOR)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    director = acting_person(request)
    program = director.program
    assert program is not None
    form = DashboardFilterForm(program, request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "reports/dashboard.html", {"form": form}, status=400)
    if not request.GET:
        form = DashboardFilterForm(program, {})
        form.is_valid()
    filters = _filters(form)
    drill = reverse("reports:drilldown")
    census = metrics.census_by_track(program, filters, filters.end)
    census_chart = charts.bar_chart(
        [
            charts.Bar(
                label=track.slug,
                value=count,
                href=drill + _query(filters, metric="census", day=filters.end.isoformat(), census_track=str(track.pk)),
                description=_("%(track)s: %(n)s in treatment") % {"track": track.name, "n": count},
            )
            for track, count in census
        ],
        title=_("Census by track"),
        description=_("Patients in treatment on %(day)s, per track.") % {"day": formats.date_format(filters.end)},
    )
    flows: dict[str, dict[str, object]] = {}
    for metric, rows, field, label in (
        ("admissions", metrics.admissions(program, filters), "start_date", _("admissions")),
        ("discharges", metrics.discharges(program, filters), "end_date", _("discharges")),
    ):
        series = metrics.per_week(rows, field, filters)
        flows[metric] = {
            "total": sum(count for _week, count in series),
            "chart": charts.bar_chart(
                [
                    charts.Bar(
                        label=formats.date_format(week, "M j"),
                        value=count,
                        href=drill + _query(filters, metric=metric, week=week.isoformat()),
                        description=_("Week of %(week)s: %(n)s %(what)s")
                        % {"week": formats.date_format(week), "n": count, "what": label},
                    )
                    for week, count in series
                ],
                title=_("%(what)s per week") % {"what": label.capitalize()},
                description=_("%(what)s per week from %(start)s to %(end)s.")
                % {
                    "what": label.capitalize(),
                    "start": formats.date_format(filters.start),
                    "end": formats.date_format(filters.end),
                },
            ),
        }
    context = {
        "form": form,
        "filters": filters,
        "census": census,
        "census_total": sum(count for _track, count in census),
        "census_chart": _svg(census_chart),
        "admissions": flows["admissions"] | {"chart": _svg(str(flows["admissions"]["chart"]))},
        "discharges": flows["discharges"] | {"chart": _svg(str(flows["discharges"]["chart"]))},
        "open_alerts": metrics.open_alerts(program).count(),
    }
    context |= _care_figures(program, filters)
    return render(request, "reports/dashboard.html", context)


def _care_figures(program: Program, filters: metrics.Filters) -> dict[str, object]:
    """Waitlist, attendance, weekly dose and overdue notes for the dashboard."""
    care = reverse("reports:care_list")
    series = metrics.attendance_per_week(program, filters)
    present = sum(p for _w, p, _e in series)
    expected = sum(e for _w, _p, e in series)
    attendance_chart = charts.bar_chart(
        [
            charts.Bar(
                label=formats.date_format(week, "M j"),
                value=round(100 * p / e) if e else 0,
                href=care + _query(filters, metric="absences", week=week.isoformat()),
                description=_("Week of %(week)s: %(p)s of %(e)s expected attendances")
                % {"week": formats.date_format(week), "p": p, "e": e},
            )
            for week, p, e in series
        ],
        title=_("Attendance rate per week"),
        description=_("Share of expected attendances that were attended (on time, late or in part), per week."),
        unit="%",
    )
    monday, dose_total, at_dose = metrics.dose_counts(program, filters)
    waiting = metrics.waitlist(program, filters.end)
    return {
        "waitlist": waiting,
        "attendance_rate": round(100 * present / expected, 1) if expected else None,
        "attendance_chart": _svg(attendance_chart),
        "dose_week": monday,
        "dose_total": dose_total,
        "dose_at": at_dose,
        "dose_percent": round(100 * at_dose / dose_total, 1) if dose_total else None,
        "overdue_notes": metrics.overdue_notes(program).count(),
        "care_query": _query(filters),
    }


@role_required(Role.DIRECTOR)
@require_GET
def care_list(request: HttpRequest) -> HttpResponse:
    """The lists behind the waitlist, attendance, weekly-dose and overdue-notes figures."""
    director = acting_person(request)
    program = director.program
    assert program is not None
    form = CareListForm(program, request.GET)
    if not form.is_valid():
        return render(request, "reports/care_list.html", {"form": form}, status=400)
    filters = _filters(form)
    metric = form.cleaned_data["metric"]
    context: dict[str, object] = {
        "form": form,
        "metric": metric,
        "back": reverse("reports:dashboard") + _query(filters),
    }
    if metric == "waitlist":
        referrals = list(metrics.open_referrals(program)[:500])
        today = timezone.localdate()
        context["referrals"] = [(r, (today - timezone.localtime(r.created_at).date()).days) for r in referrals]
        context["heading"] = _("Waiting list")
        audit.record(
            "read",
            actor=director,
            record_type="referrals.referral",
            detail={"purpose": "dashboard-waitlist", "references": [r.reference for r in referrals][:100]},
        )
    elif metric == "absences":
        week = metrics.week_start(form.cleaned_data.get("week") or filters.end)
        rows = metrics.attendance_rows(program, metrics.Filters(week, week + timedelta(days=6), filters.track))
        listed = list(
            rows.exclude(status__in=metrics.PRESENT)
            .select_related("patient", "session")
            .order_by("session__starts_at", "pk")[:500]
        )
        context["absences"] = listed
        context["heading"] = _("Missed sessions in the week of %(week)s") % {"week": formats.date_format(week)}
        audit.record_reads_of_list(director, [row.patient for row in listed], purpose="dashboard-absences")
    elif metric == "below-dose":
        monday, dose_rows = metrics.dose_last_week(program, filters)
        below = sorted((row for row in dose_rows if row.hours < row.required), key=lambda row: row.hours)
        context["below"] = below
        context["heading"] = _("Below the weekly dose in the week of %(week)s") % {"week": formats.date_format(monday)}
        audit.record_reads_of_list(director, [row.enrollment.patient for row in below], purpose="dashboard-dose")
    else:
        context["sessions"] = list(metrics.overdue_notes(program).prefetch_related("clinicians")[:500])
        context["heading"] = _("Sessions without a signed note")
    return render(request, "reports/care_list.html", context)


@role_required(Role.DIRECTOR)
@require_GET
def drilldown(request: HttpRequest) -> HttpResponse:
    director = acting_person(request)
    program = director.program
    assert program is not None
    form = DrillDownForm(program, request.GET)
    if not form.is_valid():
        return render(request, "reports/drilldown.html", {"form": form, "rows": []}, status=400)
    filters = _filters(form)
    metric = form.cleaned_data["metric"]
    if metric == "census":
        day = form.cleaned_data.get("day") or filters.end
        track_id = request.GET.get("census_track", "")
        track = program.tracks.filter(pk=int(track_id)).first() if track_id.isdigit() and len(track_id) < 19 else None
        if track is None:
            form.add_error(None, _("Choose a track of this program."))
            return render(request, "reports/drilldown.html", {"form": form, "rows": []}, status=400)
        rows = metrics.census_patients(program, filters, day, track)
        heading = _("In treatment on %(day)s: %(track)s") % {"day": formats.date_format(day), "track": track.name}
    else:
        week = form.cleaned_data.get("week")
        rows = metrics.admissions(program, filters) if metric == "admissions" else metrics.discharges(program, filters)
        field = "start_date" if metric == "admissions" else "end_date"
        if week is not None:
            week = metrics.week_start(week)
            rows = rows.filter(**{f"{field}__range": (week, week + timedelta(days=6))})
        label = _("Admissions") if metric == "admissions" else _("Discharges")
        heading = (
            label
            if week is None
            else _("%(what)s in the week of %(week)s") % {"what": label, "week": formats.date_format(week)}
        )
    listed = list(
        rows.select_related("patient", "track").order_by("patient__family_name", "patient__given_name", "pk")[:500]
    )
    audit.record_reads_of_list(director, [row.patient for row in listed], purpose="dashboard-drilldown")
    back = reverse("reports:dashboard") + _query(filters)
    return render(request, "reports/drilldown.html", {"form": form, "rows": listed, "heading": heading, "back": back})


def _outcome(request: HttpRequest) -> tuple[metrics.OutcomeReport | None, DashboardFilterForm, str]:
    director = acting_person(request)
    program = director.program
    assert program is not None
    form = DashboardFilterForm(
        program, request.GET or {"start": (timezone.localdate() - timedelta(days=365)).isoformat()}
    )
    if not form.is_valid():
        return None, form, program.name
    filters = _filters(form)
    audit.record(
        "read",
        actor=director,
        record_type="reports.outcome",
        detail={
            "start": filters.start.isoformat(),
            "end": filters.end.isoformat(),
            "track": form.cleaned_data["track"] and form.cleaned_data["track"].pk,
        },
    )
    return metrics.outcome_report(program, filters), form, program.name


@role_required(Role.DIRECTOR)
@require_GET
def outcome_report(request: HttpRequest) -> HttpResponse:
    report, form, _program_name = _outcome(request)
    if report is None:
        return render(request, "reports/outcomes.html", {"form": form}, status=400)
    query = _query(report.filters)
    return render(
        request, "reports/outcomes.html", {"form": form, "report": report, "rows": export.rows(report), "query": query}
    )


def _outcome_file(
    request: HttpRequest, build: Callable[[metrics.OutcomeReport, str], str | bytes], content_type: str, filename: str
) -> HttpResponse:
    """The outcome report as a download; bad filters get a plain-text 400 with the reason."""
    report, form, program_name = _outcome(request)
    if report is None:
        return HttpResponse(
            "\n".join(str(e) for e in form.non_field_errors() or [_("Check the filters.")]),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(build(report, program_name), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(Role.DIRECTOR)
@require_GET
def outcome_csv(request: HttpRequest) -> HttpResponse:
    return _outcome_file(request, export.to_csv, "text/csv; charset=utf-8", "outcomes.csv")


@role_required(Role.DIRECTOR)
@require_GET
def outcome_pdf(request: HttpRequest) -> HttpResponse:
    return _outcome_file(request, export.to_pdf, "application/pdf", "outcomes.pdf")


def _billing(request: HttpRequest) -> tuple[list[billing.BilledDay] | None, DashboardFilterForm, str]:
    director = acting_person(request)
    program = director.program
    assert program is not None
    today = timezone.localdate()
    defaults = {"start": today.replace(day=1).isoformat(), "end": today.isoformat()}
    form = DashboardFilterForm(program, request.GET or defaults)
    if not form.is_valid():
        return None, form, ""
    days = metrics.billed_days(program, _filters(form))
    payer = request.GET.get("payer", "")
    if payer:
        days = [day for day in days if day.day.payer == payer]
    patients = {day.day.patient_id for day in days}
    audit.record_reads_of_list(director, list(Patient.objects.filter(pk__in=patients)), purpose="billing")
    return days, form, payer


@role_required(Role.DIRECTOR)
@require_GET
def billing_days(request: HttpRequest) -> HttpResponse:
    days, form, _payer = _billing(request)
    if days is None:
        return render(request, "reports/billing.html", {"form": form}, status=400)
    payers: dict[str, dict[str, int]] = {}
    for day in days:
        counts = payers.setdefault(day.day.payer, {"days": 0, "billable": 0})
        counts["days"] += 1
        counts["billable"] += day.billable
    filters = _filters(form)
    rows = [(payer, c["days"], c["billable"], _query(filters, payer=payer)) for payer, c in sorted(payers.items())]
    blocked = [day for day in days if not day.billable][:200]
    context = {"form": form, "payers": rows, "blocked": blocked, "total": len(days)}
    return render(request, "reports/billing.html", context)


@role_required(Role.DIRECTOR)
@require_GET
def billing_csv(request: HttpRequest) -> HttpResponse:
    days, _form, payer = _billing(request)
    if days is None or not payer:
        message = _("Choose a payer and a valid period.")
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(export.billing_csv(days), content_type="text/csv; charset=utf-8")
    safe = "".join(ch if ch.isalnum() else "-" for ch in payer)[:40] or "payer"
    response["Content-Disposition"] = f'attachment; filename="billing-{safe}.csv"'
    return response

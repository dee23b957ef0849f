from django.urls import include, path, register_converter

from openiop.accounts import views as accounts_views
from openiop.audit import views as audit_views
from openiop.core import converters, homes
from openiop.core import views as core_views
from openiop.outbox import views as outbox_views

register_converter(converters.IdConverter, "id")
register_converter(converters.TokenConverter, "token")

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("openiop.accounts.urls")),
    path("caseload/", homes.caseload, name="caseload"),
    path("intake/", homes.intake_home, name="intake_home"),
    path("program/", homes.program_overview, name="program_overview"),
    path("program/patients/", homes.program_patients, name="program_patients"),
    path("program/people/", accounts_views.people, name="people"),
    path("program/people/<id:person_id>/", accounts_views.manage_person, name="manage_person"),
    path("program/audit/", audit_views.audit_log, name="audit_log"),
    path("program/break-glass/<id:grant_id>/review/", accounts_views.review_break_glass, name="review_break_glass"),
    path("program/dashboard/", include("openiop.reports.urls")),
    path("program/outbox/", outbox_views.outbox, name="outbox"),
    path("program/outbox/<id:message_id>/retry/", outbox_views.retry, name="outbox_retry"),
    path("safety/", include("openiop.safety.urls")),
    path("", include("openiop.fhirapi.urls")),
    path("patients/break-glass/", accounts_views.break_glass, name="break_glass"),
    path("rooms/", include("openiop.rooms.urls")),
    path("", include("openiop.intake.urls")),
    path("", include("openiop.measures.urls")),
    path("", include("openiop.referrals.urls")),
    path("", include("openiop.portal.urls")),
    path("", include("openiop.treatment.urls")),
    path("", include("openiop.scheduling.urls")),
]

handler400 = "openiop.core.views.bad_request"
handler403 = "openiop.core.views.permission_denied"
handler404 = "openiop.core.views.page_not_found"
handler500 = "openiop.core.views.server_error"

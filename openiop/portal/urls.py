from django.urls import path

from openiop.portal import views

app_name = "portal"
urlpatterns = [
    # public
    path("programs/<slug:slug>/", views.program_page, name="program_page"),
    path("programs/<slug:slug>/which-track/", views.track_finder, name="track_finder"),
    path("programs/<slug:slug>/refer/", views.self_referral, name="self_referral"),
    path("language/", views.set_language, name="set_language"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("offline/", views.offline, name="offline"),
    # patients (and family members for settings)
    path("portal/", views.today, name="today"),
    path("portal/schedule/", views.schedule, name="schedule"),
    path("portal/messages/", views.patient_messages, name="messages"),
    path("portal/settings/", views.portal_settings, name="settings"),
    # staff
    path("patients/<id:patient_id>/messages/", views.staff_messages, name="staff_messages"),
    path("program/public-page/", views.edit_page, name="edit_page"),
]

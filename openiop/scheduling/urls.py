from django.urls import path

from openiop.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("program/schedule/", views.plans, name="plans"),
    path("program/schedule/<id:plan_id>/", views.plan_detail, name="plan_detail"),
    path("program/schedule/<id:plan_id>/publish/", views.publish, name="publish"),
    path("program/schedule/<id:plan_id>/merge/", views.merge_groups, name="merge_groups"),
    path("program/schedule/clinicians/", views.clinicians, name="clinicians"),
    path("program/schedule/clinicians/<id:clinician_id>/", views.clinician_availability, name="clinician_availability"),
    path("schedule/availability/", views.my_availability, name="my_availability"),
    path("patients/<id:patient_id>/availability/", views.patient_availability, name="patient_availability"),
    path("schedule/week/", views.week, name="week"),
    path("schedule/mine/", views.my_sessions, name="my_sessions"),
    path("schedule/calendar/", views.calendar_settings, name="calendar_settings"),
    path("calendar/<token:token>.ics", views.calendar_feed, name="calendar_feed"),
]

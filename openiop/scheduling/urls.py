from django.urls import path

from openiop.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("program/schedule/", views.plans, name="plans"),
    path("program/schedule/<id:plan_id>/", views.plan_detail, name="plan_detail"),
    path("program/schedule/<id:plan_id>/publish/", views.publish, name="publish"),
    path("patients/<id:patient_id>/availability/", views.patient_availability, name="patient_availability"),
    path("schedule/week/", views.week, name="week"),
    path("schedule/mine/", views.my_sessions, name="my_sessions"),
    path("schedule/calendar/", views.calendar_settings, name="calendar_settings"),
    path("calendar/<token:token>.ics", views.calendar_feed, name="calendar_feed"),
]

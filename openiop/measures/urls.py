from django.urls import path

from openiop.measures import views

app_name = "measures"
urlpatterns = [
    path("me/measures/<slug:slug>/", views.fill, name="fill"),
    path("me/measures/done/<id:response_id>/", views.done, name="done"),
    path("me/progress/", views.my_progress, name="my_progress"),
    path("patients/<id:patient_id>/measures/", views.trajectories, name="trajectories"),
    path("patients/<id:patient_id>/measures/<slug:slug>/administer/", views.administer, name="administer"),
    path(
        "patients/<id:patient_id>/measures/responses/<id:response_id>/fhir/",
        views.response_fhir,
        name="response_fhir",
    ),
    path("caseload/measures/", views.caseload_progress, name="caseload"),
    path("program/measures/", views.import_questionnaire, name="import"),
    path("program/measures/schedules/", views.schedules, name="schedules"),
]

from django.urls import path

from openiop.intake import views

app_name = "intake"
urlpatterns = [
    path("patients/<id:patient_id>/", views.patient_chart, name="patient_chart"),
    path("me/", views.patient_today, name="patient_today"),
    path("family/", views.family_home, name="family_home"),
    path("family/patients/<id:patient_id>/", views.family_patient, name="family_patient"),
]

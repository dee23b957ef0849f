from django.urls import path

from openiop.treatment import views

app_name = "treatment"
urlpatterns = [
    path("patients/<id:patient_id>/treatment/", views.patient_treatment, name="patient_treatment"),
    path("patients/<id:patient_id>/treatment/plan/", views.create_plan, name="create_plan"),
    path("patients/<id:patient_id>/treatment/export/", views.export, name="export"),
    path("patients/<id:patient_id>/treatment/consent/", views.counseling_consent, name="counseling_consent"),
    path("patients/<id:patient_id>/review/", views.progress_review, name="progress_review"),
    path("patients/<id:patient_id>/discharge/", views.discharge, name="discharge"),
    path("plans/<id:plan_id>/", views.plan, name="plan"),
    path("plans/<id:plan_id>/edit/", views.edit_plan, name="edit_plan"),
    path("plans/<id:plan_id>/goals/", views.add_goal, name="add_goal"),
    path("plans/<id:plan_id>/sign/", views.sign_plan, name="sign_plan"),
    path("plans/<id:plan_id>/revise/", views.revise_plan, name="revise_plan"),
    path("plans/<id:plan_id>/reviewed/", views.plan_reviewed, name="plan_reviewed"),
    path("goals/<id:goal_id>/progress/", views.goal_status, name="goal_status"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<id:session_id>/note/", views.session_note, name="session_note"),
    path("sessions/<id:session_id>/note/addenda/", views.add_addendum, name="add_addendum"),
    path("sessions/<id:session_id>/note/cosign/", views.cosign, name="cosign"),
    path("curriculum/", views.curriculum, name="curriculum"),
    path("discharges/<id:discharge_id>/summary.pdf", views.discharge_pdf_view, name="discharge_pdf"),
    path("me/treatment/", views.my_treatment, name="my_treatment"),
    path("me/plans/<id:plan_id>/sign/", views.my_plan_sign, name="my_plan_sign"),
    path("me/check-ins/<id:check_in_id>/", views.my_check_in, name="my_check_in"),
]

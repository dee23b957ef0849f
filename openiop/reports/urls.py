from django.urls import path

from openiop.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("list/", views.drilldown, name="drilldown"),
    path("care/", views.care_list, name="care_list"),
    path("outcomes/", views.outcome_report, name="outcomes"),
    path("billing/", views.billing_days, name="billing"),
    path("billing.csv", views.billing_csv, name="billing_csv"),
    path("outcomes.csv", views.outcome_csv, name="outcomes_csv"),
    path("outcomes.pdf", views.outcome_pdf, name="outcomes_pdf"),
]

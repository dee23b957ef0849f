from django.urls import path

from openiop.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("list/", views.drilldown, name="drilldown"),
]

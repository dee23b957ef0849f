from django.urls import path

from openiop.safety import views

app_name = "safety"

urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("<id:alert_id>/", views.alert, name="alert"),
    path("<id:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<id:alert_id>/resolve/", views.resolve, name="resolve"),
]

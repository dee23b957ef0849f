from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "openiop.safety"
    label = "safety"
    verbose_name = "Safety alerts"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "openiop.portal"
    label = "portal"
    verbose_name = "Public pages and the patient portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from openiop.portal import signals  # noqa: F401  (connects the sign-in receiver)

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "openiop.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from openiop.audit import signals  # noqa: F401

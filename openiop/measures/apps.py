from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "openiop.measures"
    label = "measures"
    verbose_name = "Measures"

    def ready(self) -> None:
        from openiop.measures import fhir_api  # noqa: F401  (registers its FHIR API resources)

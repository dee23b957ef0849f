from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    name = "openiop.fhirapi"
    label = "fhirapi"
    verbose_name = "FHIR API"
    default_auto_field = "django.db.models.BigAutoField"

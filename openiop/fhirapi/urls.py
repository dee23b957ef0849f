from django.urls import path, register_converter

from openiop.fhirapi import views


class ResourceTypeConverter:
    regex = "[A-Z][A-Za-z]{1,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResourceTypeConverter, "fhirtype")

app_name = "fhirapi"

urlpatterns = [
    path("fhir/metadata", views.metadata, name="metadata"),
    path("fhir/$export", views.export, name="export"),
    path("fhir/$export-status/<id:job_id>", views.export_status, name="export_status"),
    path("fhir/$export-file/<id:job_id>/<fhirtype:resource_type>.ndjson", views.export_file, name="export_file"),
    path("fhir/<fhirtype:resource_type>", views.search, name="search"),
    path("fhir/<fhirtype:resource_type>/<id:resource_id>", views.read, name="read"),
    path("program/integrations/", views.integrations, name="integrations"),
    path("program/integrations/<id:client_id>/revoke/", views.revoke, name="revoke"),
]

from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "openiop.referrals"
    label = "referrals"

    def ready(self) -> None:
        from openiop.referrals import fhir  # noqa: F401  (registers the FHIR Consent resource)

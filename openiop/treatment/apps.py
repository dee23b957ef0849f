from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "openiop.treatment"
    label = "treatment"
    verbose_name = "Treatment plans, notes, reviews and discharge"
    default_auto_field = "django.db.models.BigAutoField"

"""Store the built-in instruments (openiop/measures/instruments/*.json)."""

import json
from pathlib import Path

from django.db import migrations

INSTRUMENTS = Path(__file__).resolve().parent.parent / "instruments"
BASE = "https://openiop.org/fhir/Questionnaire/"


def load(apps, schema_editor):
    Questionnaire = apps.get_model("measures", "Questionnaire")
    for path in sorted(INSTRUMENTS.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        Questionnaire.objects.update_or_create(
            program=None,
            slug=path.stem,
            defaults={
                "title": data["title"],
                "instrument_key": data["url"][len(BASE) :],
                "resource": data,
                "copyright": data.get("copyright", ""),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("measures", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

"""Benchmark for measures (not a test):

1. scoring throughput: 100,000 responses through openiop.measures.scoring
   (option indices -> total, band, subscales, critical items), and 100,000 through
   the FHIR path (answers to a parsed Questionnaire -> score);
2. submit -> clinician alert latency: 50 PHQ-9 submissions with item 9 > 0 posted
   as the patient over HTTP (Django test client, in process); the clock stops when
   the clinician's live-notice channel (Channels, in-memory layer) holds the alert.

    .venv/bin/python bench/measures.py [--responses 100000] [--submissions 50]

It uses its own SQLite database (var/bench-measures.sqlite3), created fresh.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = ROOT / "var" / "bench-measures.sqlite3"


def scoring_throughput(count: int) -> None:
    from openiop.measures import fhir, scoring

    rng = random.Random(4)
    instruments = list(scoring.INSTRUMENTS.values())
    batches = []
    for index in range(count):
        instrument = instruments[index % len(instruments)]
        batches.append(
            (instrument, [rng.randrange(len(item.labels)) if item.labels else None for item in instrument.items])
        )
    started = time.perf_counter()
    for instrument, answers in batches:
        scoring.score_answers(instrument, answers)
    elapsed = time.perf_counter() - started
    print(f"scoring.score_answers: {count} responses in {elapsed:.2f} s = {count / elapsed:,.0f} responses/s")

    parsed = {key: fhir.load_builtin(key) for key in fhir.builtin_keys()}
    keys = list(parsed)
    prepared = []
    for index in range(count):
        questions = parsed[keys[index % len(keys)]]
        prepared.append(
            (
                questions,
                {q.link_id: rng.choice(q.options) for q in questions.questions() if q.type == "choice"},
            )
        )
    started = time.perf_counter()
    for questions, answers in prepared:
        fhir.score(questions, answers)
    elapsed = time.perf_counter() - started
    print(
        f"fhir.score (parsed Questionnaire): {count} responses in {elapsed:.2f} s = {count / elapsed:,.0f} responses/s"
    )


def alert_latency(submissions: int) -> None:
    import django

    os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    os.environ.pop("REDIS_URL", None)
    os.environ["OPENIOP_OUTBOX_SEND_ON_COMMIT"] = "0"
    DB.unlink(missing_ok=True)
    django.setup()
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from openiop.core import live
    from openiop.demo.builder import build_demo_program
    from openiop.intake.models import CareTeamMember, Patient
    from openiop.measures import services
    from openiop.safety.models import SafetyAlert

    call_command("migrate", verbosity=0)
    build_demo_program(patients=60, seed=4, password=os.environ.get("OPENIOP_DEMO_PASSWORD", "iop-demo-2026"))
    services.builtin_questionnaire("phq9")
    layer = get_channel_layer()
    assert layer is not None
    patients = list(Patient.objects.filter(user__isnull=False, enrollments__status="active").distinct()[:submissions])
    timings: list[float] = []
    url = reverse("measures:fill", kwargs={"slug": "phq9"})
    data = {f"q{n}": "0" for n in range(1, 9)} | {"q9": "1"}
    for index in range(submissions):
        patient = patients[index % len(patients)]
        clinician_id = CareTeamMember.objects.filter(patient=patient).values_list("clinician_id", flat=True)[0]
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(live.user_group(clinician_id), channel)
        client = Client(HTTP_HOST="localhost")
        client.force_login(patient.user, backend="django.contrib.auth.backends.ModelBackend")  # type: ignore[arg-type]
        started = time.perf_counter()
        response = client.post(url, data)
        message = async_to_sync(layer.receive)(channel)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 302, response.status_code
        assert "safety" in message["payload"]["text"].lower()
        async_to_sync(layer.group_discard)(live.user_group(clinician_id), channel)
    alerts = SafetyAlert.objects.count()
    timings_ms = sorted(t * 1000 for t in timings)
    p95 = timings_ms[max(0, round(0.95 * len(timings_ms)) - 1)]
    print(
        f"submit -> clinician live alert over {submissions} submissions: "
        f"median {statistics.median(timings_ms):.1f} ms, p95 {p95:.1f} ms, max {timings_ms[-1]:.1f} ms "
        f"({alerts} alerts stored)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--submissions", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.settings")
    scoring_throughput(args.responses)
    alert_latency(args.submissions)


if __name__ == "__main__":
    main()

"""42 CFR Part 2: records of a substance-use program leave only with the patient's written consent.

Until the intake consent model is wired in, every patient ever enrolled in a substance-use or
co-occurring track is withheld from every integration: the safe default. (Wiring: subtract the patients
with an active Part 2 consent that names this integration's recipient and purpose.)"""

from __future__ import annotations

from openiop.accounts.models import Program
from openiop.fhirapi.models import ApiClient
from openiop.intake.models import Enrollment
from openiop.scheduling.models import Focus

PART2_FOCUSES = (Focus.SUBSTANCE_USE, Focus.CO_OCCURRING)


def withheld_patient_ids(program: Program, client: ApiClient) -> frozenset[int]:
    covered = Enrollment.objects.filter(patient__program=program, track__focus__in=PART2_FOCUSES)
    return frozenset(covered.values_list("patient_id", flat=True))

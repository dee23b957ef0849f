"""Scoring of the standard instruments, exactly as published. No Django here.

Facts come from ../shared/clinical/REFERENCE.md. Everything is recomputed from
the item answers: a total that arrives with the data is never read.

Two ways in:
- `score_answers(instrument, indices)`: the 0-based index of the chosen option
  of each item, in the instrument's order (what `manage.py score` takes);
- `score_items(instrument, item_scores)`: each item's score (what a FHIR
  answer's ordinalValue gives).

Missing answers (None) -- the policy, per instrument (`max_prorated`):
- a missing answer is never counted as 0;
- instruments with a total: if no more than `max_prorated` scored items are
  missing, the total is prorated: sum of the answered items x (number of
  scored items / number answered), rounded half up, with a warning naming
  the missing items; with more missing, total and band are null (a warning
  says why). PHQ-9 and GAD-7 allow 1 missing item, PCL-5 allows 2 (10 %),
  AUDIT, AUDIT-C, DAST-10 and WHO-5 allow none (their cut-offs are too close
  together for a guessed item);
- a subscale (BAM use/risk/protective, PCL-5 clusters) with a missing item is
  null; the PCL-5 DSM-5 pattern is true/false when the answered items decide
  it, null when the missing ones could change it;
- a critical item left unanswered is a warning (ask the person), never a
  silent "no".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any


class ScoringError(ValueError):
    """Answers that cannot be scored; the message says which and why."""


@dataclass(frozen=True)
class Item:
    number: int  # 1-based, in the instrument's order
    short: str  # a few words, for --help and warnings
    labels: tuple[str, ...]  # option labels by index (empty: not a single-choice item)
    scores: tuple[int, ...]  # score of each option by index
    scored: bool = True  # counts towards the total / subscales


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    name: str


@dataclass(frozen=True)
class Instrument:
    key: str
    title: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()
    has_total: bool = True
    max_prorated: int = 0
    # item number -> the answer is critical when the item's score is above this
    critical_above: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    higher_is_better: bool = False
    note: str = ""

    def item(self, number: int) -> Item:
        return self.items[number - 1]

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)


@dataclass(frozen=True)
class Thresholds:
    """Clinical thresholds that are settings (REFERENCE.md marks them unconfirmed
    or gives a range). Django code builds one from settings; tests pass their own."""

    reliable_change: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({"phq9": 6, "gad7": 4, "pcl5": 10, "who5": 10})
    )
    response_drop_percent: int = 50
    phq9_remission_below: int = 5
    pcl5_probable_ptsd: int = 33


DEFAULT_THRESHOLDS = Thresholds()


@dataclass
class Score:
    instrument: str
    total: int | None
    band: str | None
    critical_items: list[int]
    subscales: dict[str, Any]
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "critical_items": list(self.critical_items),
            "subscales": dict(self.subscales),
            "warnings": list(self.warnings),
        }


# -- the instruments ---------------------------------------------------------

FREQUENCY_2W = ("Not at all", "Several days", "More than half the days", "Nearly every day")
DIFFICULTY = ("Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult")
PCL5_OPTIONS = ("Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely")
WHO5_OPTIONS = (
    "At no time",
    "Some of the time",
    "Less than half of the time",
    "More than half of the time",
    "Most of the time",
    "All of the time",
)
AUDIT_FREQUENCY = ("Never", "Less than monthly", "Monthly", "Weekly", "Daily or almost daily")
AUDIT_INJURY = ("No", "Yes, but not in the last year", "Yes, during the last year")
YES_NO = ("No", "Yes")
BAM_DAYS = ("0 days", "1-3 days", "4-8 days", "9-15 days", "16-30 days")
BAM_AMOUNT = ("Not at all", "Slightly", "Moderately", "Considerably", "Extremely")
BAM_HEALTH = ("Excellent", "Very good", "Good", "Fair", "Poor")


def _items(shorts: Iterable[str], labels: tuple[str, ...], scores: tuple[int, ...] | None = None) -> list[Item]:
    values = scores if scores is not None else tuple(range(len(labels)))
    return [Item(number, short, labels, values) for number, short in enumerate(shorts, start=1)]


def _renumber(items: Iterable[Item]) -> tuple[Item, ...]:
    return tuple(
        Item(number, item.short, item.labels, item.scores, item.scored) for number, item in enumerate(items, start=1)
    )


PHQ9 = Instrument(
    key="phq9",
    title="PHQ-9",
    items=_renumber(
        [
            *_items(
                [
                    "little interest or pleasure",
                    "down, depressed, hopeless",
                    "sleep",
                    "tired, little energy",
                    "appetite",
                    "feeling bad about yourself",
                    "concentration",
                    "slow or restless",
                    "thoughts of being better off dead or self-harm",
                ],
                FREQUENCY_2W,
            ),
            Item(10, "difficulty (not scored)", DIFFICULTY, (0, 1, 2, 3), scored=False),
        ]
    ),
    bands=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately severe"),
        Band(20, 27, "severe"),
    ),
    max_prorated=1,
    critical_above=MappingProxyType({9: 0}),
)

GAD7 = Instrument(
    key="gad7",
    title="GAD-7",
    items=_renumber(
        _items(
            [
                "nervous, anxious, on edge",
                "cannot stop worrying",
                "worrying too much",
                "trouble relaxing",
                "restless",
                "easily annoyed",
                "afraid something awful might happen",
            ],
            FREQUENCY_2W,
        )
    ),
    bands=(Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
    max_prorated=1,
)

_AUDIT_ITEMS = [
    Item(
        1,
        "how often a drink",
        ("Never", "Monthly or less", "2-4 times a month", "2-3 times a week", "4 or more times a week"),
        (0, 1, 2, 3, 4),
    ),
    Item(2, "drinks on a typical day", ("1 or 2", "3 or 4", "5 or 6", "7 to 9", "10 or more"), (0, 1, 2, 3, 4)),
    Item(3, "six or more drinks on one occasion", AUDIT_FREQUENCY, (0, 1, 2, 3, 4)),
    Item(4, "not able to stop", AUDIT_FREQUENCY, (0, 1, 2, 3, 4)),
    Item(5, "failed to do what was expected", AUDIT_FREQUENCY, (0, 1, 2, 3, 4)),
    Item(6, "morning drink", AUDIT_FREQUENCY, (0, 1, 2, 3, 4)),
    Item(7, "guilt or remorse", AUDIT_FREQUENCY, (0, 1, 2, 3, 4)),
    Item(8, "could not remember", AUDIT_FREQUENCY, (0, 1, 2, 3, 4)),
    Item(9, "injured because of drinking", AUDIT_INJURY, (0, 2, 4)),
    Item(10, "someone concerned about drinking", AUDIT_INJURY, (0, 2, 4)),
]

AUDIT = Instrument(
    key="audit",
    title="AUDIT",
    items=tuple(_AUDIT_ITEMS),
    bands=(Band(0, 7, "zone I"), Band(8, 15, "zone II"), Band(16, 19, "zone III"), Band(20, 40, "zone IV")),
)

AUDIT_C = Instrument(
    key="auditc",
    title="AUDIT-C",
    items=tuple(_AUDIT_ITEMS[:3]),
    note="Positive at 4 or more for men, 3 or more for women.",
)

DAST10 = Instrument(
    key="dast10",
    title="DAST-10",
    items=_renumber(
        [
            Item(1, "used drugs other than for medical reasons", YES_NO, (0, 1)),
            Item(2, "more than one drug at a time", YES_NO, (0, 1)),
            # Item 3 is reversed: "no" (cannot always stop) scores 1.
            Item(3, "always able to stop (reversed)", YES_NO, (1, 0)),
            Item(4, "blackouts or flashbacks", YES_NO, (0, 1)),
            Item(5, "bad or guilty about drug use", YES_NO, (0, 1)),
            Item(6, "spouse or parents complain", YES_NO, (0, 1)),
            Item(7, "neglected family", YES_NO, (0, 1)),
            Item(8, "illegal activities to obtain drugs", YES_NO, (0, 1)),
            Item(9, "withdrawal symptoms", YES_NO, (0, 1)),
            Item(10, "medical problems from drug use", YES_NO, (0, 1)),
        ]
    ),
    bands=(
        Band(0, 0, "none"),
        Band(1, 2, "low"),
        Band(3, 5, "moderate"),
        Band(6, 8, "substantial"),
        Band(9, 10, "severe"),
    ),
)

PCL5_CLUSTERS = {"cluster_b": (1, 5, 1), "cluster_c": (6, 7, 1), "cluster_d": (8, 14, 2), "cluster_e": (15, 20, 2)}

PCL5 = Instrument(
    key="pcl5",
    title="PCL-5",
    items=_renumber(
        _items(
            [
                "unwanted memories",
                "disturbing dreams",
                "reliving (flashbacks)",
                "upset by reminders",
                "physical reactions to reminders",
                "avoiding memories, thoughts, feelings",
                "avoiding external reminders",
                "trouble remembering parts",
                "strong negative beliefs",
                "blaming yourself or someone else",
                "strong negative feelings",
                "loss of interest",
                "distant or cut off",
                "trouble with positive feelings",
                "irritable, angry, aggressive",
                "taking too many risks",
                "superalert, on guard",
                "jumpy, easily startled",
                "difficulty concentrating",
                "trouble sleeping",
            ],
            PCL5_OPTIONS,
        )
    ),
    max_prorated=2,
)

WHO5 = Instrument(
    key="who5",
    title="WHO-5",
    items=_renumber(
        _items(
            [
                "cheerful, good spirits",
                "calm and relaxed",
                "active and vigorous",
                "woke up fresh and rested",
                "daily life filled with interest",
            ],
            WHO5_OPTIONS,
        )
    ),
    bands=(Band(0, 12, "poor well-being"), Band(13, 25, "adequate well-being")),
    higher_is_better=True,
    note="Total is the raw score 0-25; subscales.percentage is the raw score x 4 (0-100).",
)

BAM_SUBSCALES = {"use": (4, 5, 6), "risk": (1, 2, 3, 8, 11, 15), "protective": (9, 10, 12, 13, 14, 16)}

BAM = Instrument(
    key="bam",
    title="BAM",
    items=(
        Item(1, "physical health", BAM_HEALTH, (0, 1, 2, 3, 4)),
        Item(2, "nights with trouble sleeping", BAM_DAYS, (0, 1, 2, 3, 4)),
        Item(3, "days depressed, anxious, angry or very upset", BAM_DAYS, (0, 1, 2, 3, 4)),
        Item(4, "days drinking any alcohol", BAM_DAYS, (0, 1, 2, 3, 4)),
        Item(5, "days of heavy drinking", BAM_DAYS, (0, 1, 2, 3, 4)),
        Item(6, "days using illegal drugs or misusing medication", BAM_DAYS, (0, 1, 2, 3, 4)),
        # Item 7 is a set of day counts per drug (7A-7G): recorded, never scored.
        Item(7, "days using each drug (7A-7G, not scored)", (), (), scored=False),
        Item(8, "bothered by cravings", BAM_AMOUNT, (0, 1, 2, 3, 4)),
        Item(9, "confidence in staying abstinent", BAM_AMOUNT, (0, 1, 2, 3, 4)),
        Item(10, "days at self-help meetings", BAM_DAYS, (0, 1, 2, 3, 4)),
        Item(11, "days in risky situations", BAM_DAYS, (0, 1, 2, 3, 4)),
        Item(12, "religion or spirituality supports recovery", BAM_AMOUNT, (0, 1, 2, 3, 4)),
        Item(13, "days at work, school or volunteering", BAM_DAYS, (0, 1, 2, 3, 4)),
        Item(14, "enough income for necessities", YES_NO, (0, 4)),
        Item(15, "bothered by arguments with family or friends", BAM_AMOUNT, (0, 1, 2, 3, 4)),
        Item(16, "days with supportive family or friends", BAM_DAYS, (0, 1, 2, 3, 4)),
        Item(17, "satisfied with progress (not in a subscale)", BAM_AMOUNT, (0, 1, 2, 3, 4), scored=False),
    ),
    has_total=False,
    note="VA BAM, 17-item version (Cacciola et al., 2013). No total: subscales use, risk and protective.",
)

INSTRUMENTS: dict[str, Instrument] = {
    instrument.key: instrument for instrument in (PHQ9, GAD7, AUDIT, AUDIT_C, DAST10, PCL5, WHO5, BAM)
}


def instrument(key: str) -> Instrument:
    try:
        return INSTRUMENTS[key.lower().replace("-", "").replace("_", "")]
    except KeyError:
        raise ScoringError(f"Unknown instrument {key!r}; known: {', '.join(INSTRUMENTS)}.") from None


# -- scoring -----------------------------------------------------------------


def score_answers(
    instrument: Instrument,
    indices: Sequence[int | None],
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    sex: str | None = None,
    extra_critical: Iterable[int] = (),
) -> Score:
    """Score from the 0-based option index of each item (None: not answered).

    Trailing items that are not scored (PHQ-9 item 10, BAM item 17) may be left off."""
    items = instrument.items
    last_scored = max(item.number for item in instrument.scored_items)
    if not last_scored <= len(indices) <= len(items):
        expected = str(len(items)) if last_scored == len(items) else f"{last_scored} to {len(items)}"
        raise ScoringError(f"{instrument.title} takes {expected} answers; got {len(indices)}.")
    item_scores: list[int | None] = []
    for item, index in zip(items, [*indices, *([None] * (len(items) - len(indices)))], strict=True):
        if index is None:
            item_scores.append(None)
            continue
        if not item.labels:
            raise ScoringError(
                f"{instrument.title} item {item.number} ({item.short}) has no options to choose; leave it blank."
            )
        if not 0 <= index < len(item.labels):
            raise ScoringError(
                f"{instrument.title} item {item.number}: option {index} does not exist "
                f"(choose 0 to {len(item.labels) - 1})."
            )
        item_scores.append(item.scores[index])
    return score_items(instrument, item_scores, thresholds=thresholds, sex=sex, extra_critical=extra_critical)


def score_items(
    instrument: Instrument,
    item_scores: Sequence[int | None],
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    sex: str | None = None,
    extra_critical: Iterable[int] = (),
) -> Score:
    """Score from each item's score (None: not answered), one per item."""
    if len(item_scores) != len(instrument.items):
        raise ScoringError(f"{instrument.title} has {len(instrument.items)} items; got {len(item_scores)} scores.")
    for item, value in zip(instrument.items, item_scores, strict=True):
        if value is not None and item.labels and value not in item.scores:
            allowed = ", ".join(str(s) for s in sorted(set(item.scores)))
            raise ScoringError(f"{instrument.title} item {item.number}: score {value} is not one of {allowed}.")
    values = {item.number: value for item, value in zip(instrument.items, item_scores, strict=True)}
    warnings: list[str] = []

    critical_above = dict(instrument.critical_above)
    for number in extra_critical:
        critical_above.setdefault(number, 0)
    critical: list[int] = []
    for number, above in sorted(critical_above.items()):
        value = values.get(number)
        if value is None:
            short = instrument.item(number).short if number <= len(instrument.items) else ""
            warnings.append(
                f"Critical item {number} ({short}) was not answered: ask the person directly."
                if short
                else f"Critical item {number} was not answered: ask the person directly."
            )
        elif value > above:
            critical.append(number)

    total: int | None = None
    if instrument.has_total:
        total = _total(instrument, values, warnings)
    band = _band(instrument, total, thresholds, sex)
    subscales = _subscales(instrument, values, total, warnings)
    return Score(instrument.key, total, band, critical, subscales, warnings)


def _total(instrument: Instrument, values: Mapping[int, int | None], warnings: list[str]) -> int | None:
    scored = instrument.scored_items
    missing = [item.number for item in scored if values[item.number] is None]
    answered = [values[item.number] for item in scored if values[item.number] is not None]
    if not missing:
        return sum(v for v in answered if v is not None)
    listed = ", ".join(str(n) for n in missing)
    if len(missing) > instrument.max_prorated:
        allowed = instrument.max_prorated
        warnings.append(
            f"No total: {len(missing)} item(s) not answered ({listed}); "
            f"{instrument.title} allows {allowed} missing item(s) before the total is withheld."
        )
        return None
    raw = sum(v for v in answered if v is not None)
    prorated = Fraction(raw * len(scored), len(answered))
    total = math.floor(prorated + Fraction(1, 2))
    warnings.append(
        f"Total prorated from {len(answered)} of {len(scored)} items (not answered: {listed}): "
        f"{raw} x {len(scored)}/{len(answered)} = {total}."
    )
    return total


def _band(instrument: Instrument, total: int | None, thresholds: Thresholds, sex: str | None) -> str | None:
    if total is None:
        return None
    if instrument.key == "pcl5":
        return "probable PTSD" if total >= thresholds.pcl5_probable_ptsd else "below cut-off"
    if instrument.key == "auditc":
        if sex == "female":
            return "positive" if total >= 3 else "negative"
        if sex == "male":
            return "positive" if total >= 4 else "negative"
        if total >= 4:
            return "positive"
        return "positive for women" if total == 3 else "negative"
    for band in instrument.bands:
        if band.low <= total <= band.high:
            return band.name
    return None


def _subscales(
    instrument: Instrument, values: Mapping[int, int | None], total: int | None, warnings: list[str]
) -> dict[str, Any]:
    if instrument.key == "bam":
        out: dict[str, Any] = {}
        for name, numbers in BAM_SUBSCALES.items():
            out[name] = _sum_or_none(values, numbers, name, warnings)
        return out
    if instrument.key == "pcl5":
        return _pcl5_subscales(values, warnings)
    if instrument.key == "who5":
        return {"percentage": total * 4 if total is not None else None}
    if instrument.key == "audit":
        return {"audit_c": _sum_or_none(values, (1, 2, 3), "AUDIT-C", warnings)}
    return {}


def _sum_or_none(
    values: Mapping[int, int | None], numbers: Iterable[int], name: str, warnings: list[str]
) -> int | None:
    picked = [values[n] for n in numbers]
    if any(v is None for v in picked):
        missing = ", ".join(str(n) for n in numbers if values[n] is None)
        warnings.append(f"No {name} score: item(s) {missing} not answered.")
        return None
    return sum(v for v in picked if v is not None)


def _pcl5_subscales(values: Mapping[int, int | None], warnings: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    met_all = True
    for name, (first, last, needed) in PCL5_CLUSTERS.items():
        numbers = range(first, last + 1)
        out[name] = _sum_or_none(values, numbers, name.replace("_", " ").capitalize(), warnings)
        endorsed = sum(1 for n in numbers if (values[n] or 0) >= 2)
        met_all = met_all and endorsed >= needed
    if met_all:
        out["dsm5_provisional_diagnosis"] = True
    elif _some_cluster_impossible(values):
        out["dsm5_provisional_diagnosis"] = False
    else:
        out["dsm5_provisional_diagnosis"] = None
        warnings.append("DSM-5 pattern undecided: the missing items could change it.")
    return out


def _some_cluster_impossible(values: Mapping[int, int | None]) -> bool:
    for first, last, needed in PCL5_CLUSTERS.values():
        numbers = range(first, last + 1)
        possible = sum(1 for n in numbers if (value := values[n]) is None or value >= 2)
        if possible < needed:
            return True
    return False


# -- change against the baseline ----------------------------------------------


@dataclass(frozen=True)
class Change:
    baseline: int
    current: int
    difference: int  # current - baseline, on the scale compared (WHO-5: percentage)
    reliable_improvement: bool | None  # None: no reliable-change threshold for this instrument
    reliable_worsening: bool | None
    response: bool | None  # >= response_drop_percent drop (symptom measures only)
    remission: bool | None  # PHQ-9 only


def compare(instrument: Instrument, baseline: int, current: int, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Change:
    """Reliable change, response and remission of `current` against `baseline` (both totals)."""
    scale = 4 if instrument.key == "who5" else 1  # WHO-5 change is judged on the 0-100 scale
    difference = (current - baseline) * scale
    rci = thresholds.reliable_change.get(instrument.key)
    improvement: bool | None = None
    worsening: bool | None = None
    if rci is not None:
        better = difference if instrument.higher_is_better else -difference
        improvement = better >= rci
        worsening = -better >= rci
    response: bool | None = None
    if instrument.key in ("phq9", "gad7", "pcl5"):
        # A drop of at least N percent: (baseline - current) * 100 >= N * baseline, in whole numbers.
        response = baseline > 0 and (baseline - current) * 100 >= thresholds.response_drop_percent * baseline
    remission = current < thresholds.phq9_remission_below if instrument.key == "phq9" else None
    return Change(baseline, current, difference, improvement, worsening, response, remission)


def help_text(instrument: Instrument) -> str:
    """Option order per item, for `manage.py score --help`."""
    lines = [f"{instrument.key} ({instrument.title}), {len(instrument.items)} items:"]
    groups: list[tuple[tuple[str, ...], tuple[int, ...], list[int]]] = []
    for item in instrument.items:
        if groups and groups[-1][0] == item.labels and groups[-1][1] == item.scores:
            groups[-1][2].append(item.number)
        else:
            groups.append((item.labels, item.scores, [item.number]))
    for labels, scores, numbers in groups:
        span = str(numbers[0]) if len(numbers) == 1 else f"{numbers[0]}-{numbers[-1]}"
        if not labels:
            lines.append(f"  item {span}: leave blank (not a single choice; not scored)")
            continue
        options = ", ".join(
            f"{i}={label} ({score})" for i, (label, score) in enumerate(zip(labels, scores, strict=True))
        )
        lines.append(f"  item {span}: {options}")
    if instrument.note:
        lines.append(f"  {instrument.note}")
    return "\n".join(lines)

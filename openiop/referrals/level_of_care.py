"""Level-of-care recommendation: facts in, a level (and an IOP track) out.

Pure Python, no Django imports. The rules are a versioned table (RULES); each
rule names the facts it reads and says in plain words why it fired. Program
thresholds (hours per week for IOP and partial hospitalization, days per week,
the adolescent age range) come in as a `Thresholds` object that the caller
fills from settings.

How a recommendation is reached:
1. Every *need* rule whose condition holds fires; the clinical level is the
   most intensive level among them (crisis-now > inpatient-or-residential >
   partial-hospitalization > iop > outpatient).
2. *Dose* rules then check the person can attend what that level needs. If
   not, the recommendation becomes the nearest level they can attend, and the
   shortfall is said plainly (`dose_shortfall`).
3. *Track* rules pick the IOP track (adolescent, co-occurring, adult substance
   use, adult mental health) when the level is `iop`.

This is advice for a clinician, who confirms it or overrides it with a reason.
The dimension names follow ASAM's six dimensions; the wording and cut-offs are
OpenIOP's own and are not ASAM criteria.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

RULES_VERSION = "2026.11-1"

CRISIS_NOW = "crisis-now"
INPATIENT = "inpatient-or-residential"
PARTIAL = "partial-hospitalization"
IOP = "iop"
OUTPATIENT = "outpatient"

# Most intensive first.
LEVELS = (CRISIS_NOW, INPATIENT, PARTIAL, IOP, OUTPATIENT)
LEVEL_WORDS = {
    CRISIS_NOW: "crisis care now",
    INPATIENT: "inpatient or residential care",
    PARTIAL: "partial hospitalization",
    IOP: "intensive outpatient program (IOP)",
    OUTPATIENT: "outpatient therapy",
}

TRACK_ADOLESCENT = "adolescent"
TRACK_CO_OCCURRING = "adult-co-occurring"
TRACK_SUBSTANCE_USE = "adult-substance-use"
TRACK_MENTAL_HEALTH = "adult-mental-health"
TRACKS = (TRACK_ADOLESCENT, TRACK_CO_OCCURRING, TRACK_SUBSTANCE_USE, TRACK_MENTAL_HEALTH)

FOCUSES = ("substance-use", "mental-health", "co-occurring")

DIMENSIONS = ("withdrawal", "biomedical", "emotional", "readiness", "relapse", "environment")
DIMENSION_WORDS = {
    "withdrawal": "withdrawal risk",
    "biomedical": "physical health",
    "emotional": "emotional and behavioral health",
    "readiness": "readiness to change",
    "relapse": "risk of relapse or continued use",
    "environment": "home and recovery environment",
}


@dataclass(frozen=True)
class Thresholds:
    """Program settings; defaults from the clinical reference."""

    iop_min_hours_adult: int = 9
    iop_min_hours_adolescent: int = 6
    partial_min_hours: int = 20
    min_days_per_week: int = 3
    adolescent_min_age: int = 13
    adolescent_max_age: int = 17


@dataclass(frozen=True)
class Facts:
    """What the screening found. Ratings are 0 (none) to 4 (severe)."""

    age: int
    focus: str  # one of FOCUSES
    withdrawal: int
    biomedical: int
    emotional: int
    readiness: int
    relapse: int
    environment: int
    hours_per_week: int
    days_per_week: int
    danger_now: bool = False  # thinking of ending their life now, or in danger right now
    stepping_down: bool = False  # coming from residential or inpatient care

    def __post_init__(self) -> None:
        for name in DIMENSIONS:
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 4:
                raise ValueError(f"{name} must be a whole number from 0 to 4, not {value!r}")
        if self.focus not in FOCUSES:
            raise ValueError(f"focus must be one of {', '.join(FOCUSES)}, not {self.focus!r}")
        if not 0 <= self.hours_per_week <= 168:
            raise ValueError("hours_per_week must be from 0 to 168")
        if not 0 <= self.days_per_week <= 7:
            raise ValueError("days_per_week must be from 0 to 7")
        if not 0 <= self.age <= 130:
            raise ValueError("age must be from 0 to 130")


@dataclass(frozen=True)
class Fired:
    rule: str
    says: str  # why it fired, in plain words, with the facts it used
    facts: dict[str, object]


@dataclass(frozen=True)
class Recommendation:
    level: str
    track: str | None
    clinical_level: str  # what the need alone suggests, before the dose check
    dose_shortfall: bool
    fired: tuple[Fired, ...]
    rules_version: str = RULES_VERSION

    @property
    def level_words(self) -> str:
        return LEVEL_WORDS[self.level]


def _rating(facts: Facts, name: str) -> str:
    return f"{DIMENSION_WORDS[name]} rated {getattr(facts, name)} of 4"


def iop_min_hours(facts: Facts, limits: Thresholds) -> int:
    return limits.iop_min_hours_adolescent if _adolescent(facts, limits) else limits.iop_min_hours_adult


def _adolescent(facts: Facts, limits: Thresholds) -> bool:
    return limits.adolescent_min_age <= facts.age <= limits.adolescent_max_age


@dataclass(frozen=True)
class Rule:
    """One row of the table: when it applies, what level it points to, the
    facts it reads, and what it says."""

    id: str
    kind: str  # "need", "dose" or "track"
    level: str | None  # need rules: the level they point to; dose rules: the level they replace
    uses: tuple[str, ...]
    applies: Callable[[Facts, Thresholds], bool]
    says: Callable[[Facts, Thresholds], str]
    track: str | None = None


def _high_count(facts: Facts) -> int:
    return sum(1 for name in ("readiness", "relapse", "environment") if getattr(facts, name) >= 3)


def _can_attend(facts: Facts, limits: Thresholds, hours: int) -> bool:
    return facts.hours_per_week >= hours and facts.days_per_week >= limits.min_days_per_week


def _hours_words(facts: Facts) -> str:
    return f"can attend {facts.hours_per_week} hours a week on {facts.days_per_week} days"


RULES: tuple[Rule, ...] = (
    # --- need: the most intensive level that fires wins -------------------------
    Rule(
        "danger-now",
        "need",
        CRISIS_NOW,
        ("danger_now",),
        lambda f, t: f.danger_now,
        lambda f, t: "Said they are thinking of ending their life or are in danger right now.",
    ),
    Rule(
        "emotional-severe",
        "need",
        CRISIS_NOW,
        ("emotional",),
        lambda f, t: f.emotional >= 4,
        lambda f, t: f"{_rating(f, 'emotional').capitalize()}: severe, needs crisis care now.",
    ),
    Rule(
        "withdrawal-severe",
        "need",
        INPATIENT,
        ("withdrawal",),
        lambda f, t: f.withdrawal >= 3,
        lambda f, t: f"{_rating(f, 'withdrawal').capitalize()}: withdrawal needs medical monitoring around the clock.",
    ),
    Rule(
        "biomedical-severe",
        "need",
        INPATIENT,
        ("biomedical",),
        lambda f, t: f.biomedical >= 3,
        lambda f, t: f"{_rating(f, 'biomedical').capitalize()}: physical health needs care around the clock.",
    ),
    Rule(
        "unsafe-home-high-relapse",
        "need",
        INPATIENT,
        ("environment", "relapse"),
        lambda f, t: f.environment >= 4 and f.relapse >= 3,
        lambda f, t: (
            f"{_rating(f, 'environment').capitalize()} and {_rating(f, 'relapse')}: "
            "home works against recovery; a residential setting is safer."
        ),
    ),
    Rule(
        "emotional-high",
        "need",
        PARTIAL,
        ("emotional",),
        lambda f, t: f.emotional == 3,
        lambda f, t: f"{_rating(f, 'emotional').capitalize()}: needs daily structured care.",
    ),
    Rule(
        "relapse-severe",
        "need",
        PARTIAL,
        ("relapse",),
        lambda f, t: f.relapse >= 4,
        lambda f, t: f"{_rating(f, 'relapse').capitalize()}: needs daily structured care.",
    ),
    Rule(
        "several-high",
        "need",
        PARTIAL,
        ("readiness", "relapse", "environment"),
        lambda f, t: _high_count(f) >= 2,
        lambda f, t: (
            f"{_rating(f, 'readiness').capitalize()}, {_rating(f, 'relapse')}, {_rating(f, 'environment')}: "
            "two or more of these are high."
        ),
    ),
    Rule(
        "moderate-need",
        "need",
        IOP,
        DIMENSIONS,
        lambda f, t: max(getattr(f, name) for name in DIMENSIONS) >= 2,
        lambda f, t: (
            "At least one area rated 2 or more: "
            + ", ".join(_rating(f, name) for name in DIMENSIONS if getattr(f, name) >= 2)
            + "."
        ),
    ),
    Rule(
        "stepping-down",
        "need",
        IOP,
        ("stepping_down",),
        lambda f, t: f.stepping_down,
        lambda f, t: "Stepping down from residential or inpatient care: IOP keeps support close while they settle.",
    ),
    Rule(
        "low-need",
        "need",
        OUTPATIENT,
        DIMENSIONS,
        lambda f, t: max(getattr(f, name) for name in DIMENSIONS) <= 1 and not f.stepping_down,
        lambda f, t: "Every area rated 0 or 1: weekly outpatient therapy fits.",
    ),
    # --- dose: can they attend what the level needs? -----------------------------
    Rule(
        "partial-dose-short",
        "dose",
        PARTIAL,
        ("hours_per_week", "days_per_week"),
        lambda f, t: not _can_attend(f, t, t.partial_min_hours),
        lambda f, t: (
            f"Partial hospitalization needs at least {t.partial_min_hours} hours a week on "
            f"{t.min_days_per_week} or more days; they {_hours_words(f)}."
        ),
    ),
    Rule(
        "iop-dose-short",
        "dose",
        IOP,
        ("hours_per_week", "days_per_week", "age"),
        lambda f, t: not _can_attend(f, t, iop_min_hours(f, t)),
        lambda f, t: (
            f"IOP needs at least {iop_min_hours(f, t)} hours a week on {t.min_days_per_week} or more days "
            f"for someone aged {f.age}; they {_hours_words(f)}."
        ),
    ),
    Rule(
        "too-young",
        "dose",
        IOP,
        ("age",),
        lambda f, t: f.age < t.adolescent_min_age,
        lambda f, t: (
            f"Aged {f.age}: the program's youngest track starts at {t.adolescent_min_age}; "
            "refer to a children's service."
        ),
    ),
    # --- track: which IOP track ------------------------------------------------
    Rule(
        "track-adolescent",
        "track",
        IOP,
        ("age",),
        lambda f, t: _adolescent(f, t),
        lambda f, t: f"Aged {f.age}: adolescent track ({t.adolescent_min_age}-{t.adolescent_max_age}).",
        track=TRACK_ADOLESCENT,
    ),
    Rule(
        "track-co-occurring",
        "track",
        IOP,
        ("age", "focus"),
        lambda f, t: f.focus == "co-occurring",
        lambda f, t: f"Adult (aged {f.age}) with both substance use and mental health concerns: co-occurring track.",
        track=TRACK_CO_OCCURRING,
    ),
    Rule(
        "track-substance-use",
        "track",
        IOP,
        ("age", "focus"),
        lambda f, t: f.focus == "substance-use",
        lambda f, t: f"Adult (aged {f.age}) whose main concern is substance use: adult substance use track.",
        track=TRACK_SUBSTANCE_USE,
    ),
    Rule(
        "track-mental-health",
        "track",
        IOP,
        ("age", "focus"),
        lambda f, t: f.focus == "mental-health",
        lambda f, t: f"Adult (aged {f.age}) whose main concern is mental health: adult mental health track.",
        track=TRACK_MENTAL_HEALTH,
    ),
)

RULES_BY_ID = {rule.id: rule for rule in RULES}


def _fire(rule: Rule, facts: Facts, limits: Thresholds) -> Fired:
    return Fired(rule=rule.id, says=rule.says(facts, limits), facts={name: getattr(facts, name) for name in rule.uses})


def _nearest_attendable(facts: Facts, limits: Thresholds, below: str) -> str:
    """The most intensive level below `below` that the person can attend."""
    for level in LEVELS[LEVELS.index(below) + 1 :]:
        if level == PARTIAL and _can_attend(facts, limits, limits.partial_min_hours):
            return level
        if level == IOP and _can_attend(facts, limits, iop_min_hours(facts, limits)):
            return level
        if level == OUTPATIENT:
            return level
    return OUTPATIENT


def recommend(facts: Facts, limits: Thresholds | None = None) -> Recommendation:
    limits = limits or Thresholds()
    fired: list[Fired] = []
    need = [rule for rule in RULES if rule.kind == "need" and rule.applies(facts, limits)]
    fired.extend(_fire(rule, facts, limits) for rule in need)
    clinical = min((rule.level for rule in need if rule.level), key=LEVELS.index, default=OUTPATIENT)
    level = clinical
    # Dose rules apply one after another: a person who cannot attend partial
    # hospitalization may still be able to attend IOP, or only outpatient.
    for rule in RULES:
        if rule.kind == "dose" and rule.level == level and rule.applies(facts, limits):
            fired.append(_fire(rule, facts, limits))
            level = OUTPATIENT if rule.id == "too-young" else _nearest_attendable(facts, limits, level)
    track = None
    if level == IOP:
        for rule in RULES:
            if rule.kind == "track" and rule.applies(facts, limits):
                fired.append(_fire(rule, facts, limits))
                track = rule.track
                break
    return Recommendation(
        level=level, track=track, clinical_level=clinical, dose_shortfall=level != clinical, fired=tuple(fired)
    )


def explain(recommendation: Recommendation) -> str:
    """The recommendation as a few plain lines (for staff pages and the report)."""
    lines = [f"Recommended: {LEVEL_WORDS[recommendation.level]}"]
    if recommendation.track:
        lines[0] += f", {recommendation.track} track"
    if recommendation.dose_shortfall:
        lines.append(
            f"Their needs point to {LEVEL_WORDS[recommendation.clinical_level]}, but they cannot attend enough hours; "
            f"nearest option: {LEVEL_WORDS[recommendation.level]}."
        )
    lines.extend(f"- [{fired.rule}] {fired.says}" for fired in recommendation.fired)
    lines.append(f"(rules version {recommendation.rules_version})")
    return "\n".join(lines)

""" "Which track fits me?": match a few plain answers to a program's tracks.

Pure Python (no Django), so the rules can be read and tested as a table (tests/test_trackfinder.py).
The answers are not clinical advice: intake decides the level of care and the track."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

ADULT_AGE = 18
YOUNGEST_AGE = 13  # adolescent tracks take 13-17

FOCI = ("substance-use", "mental-health", "both", "unsure")
TIMES = ("morning", "afternoon", "evening")
MODALITIES = ("virtual", "in-person", "either")


@dataclass(frozen=True)
class TrackInfo:
    slug: str
    population: str  # "adult" | "adolescent"
    focus: str  # "substance-use" | "mental-health" | "co-occurring"
    modality: str  # "virtual" | "in-person" | "hybrid"
    time_of_day: str  # "morning" | "afternoon" | "evening"
    accepting: bool = True


@dataclass(frozen=True)
class Answers:
    age: int | None = None
    focus: str = "unsure"
    times: frozenset[str] = field(default_factory=frozenset)  # empty: any time
    modality: str = "either"


@dataclass(frozen=True)
class Suggestion:
    tracks: tuple[str, ...]  # best first
    close: bool = False  # True: nothing fit every answer; these fit the age and focus only
    too_young: bool = False


def _population_fits(track: TrackInfo, age: int | None) -> bool:
    if age is None:
        return True
    return track.population == ("adult" if age >= ADULT_AGE else "adolescent")


def _focus_rank(track: TrackInfo, focus: str) -> int | None:
    """0 best, 1 acceptable, None does not fit."""
    if focus in ("unsure", ""):
        return 0
    if focus == "both":
        return 0 if track.focus == "co-occurring" else 1
    if track.focus == focus:
        return 0
    if track.focus == "co-occurring":
        return 1
    return None


def _modality_fits(track: TrackInfo, modality: str) -> bool:
    return modality == "either" or track.modality in (modality, "hybrid")


def _time_fits(track: TrackInfo, times: frozenset[str]) -> bool:
    return not times or track.time_of_day in times


def suggest(tracks: Iterable[TrackInfo], answers: Answers) -> Suggestion:
    if answers.age is not None and answers.age < YOUNGEST_AGE:
        return Suggestion(tracks=(), too_young=True)
    candidates: list[tuple[int, TrackInfo]] = []
    for track in tracks:
        rank = _focus_rank(track, answers.focus)
        if track.accepting and rank is not None and _population_fits(track, answers.age):
            candidates.append((rank, track))
    candidates.sort(key=lambda pair: (pair[0], pair[1].slug))
    exact = [t.slug for rank, t in candidates if _modality_fits(t, answers.modality) and _time_fits(t, answers.times)]
    if exact:
        return Suggestion(tracks=tuple(exact))
    return Suggestion(tracks=tuple(t.slug for _, t in candidates), close=bool(candidates))


def referral_params(answers: Answers, suggestion: Suggestion) -> list[tuple[str, str]]:
    """Query parameters that pre-fill the self-referral form. An age group, never the exact age."""
    params: list[tuple[str, str]] = []
    if suggestion.tracks:
        params.append(("track", suggestion.tracks[0]))
    if answers.age is not None:
        params.append(("age_group", "adult" if answers.age >= ADULT_AGE else "adolescent"))
    if answers.focus in FOCI and answers.focus != "unsure":
        params.append(("focus", answers.focus))
    params.extend(("time", time) for time in sorted(answers.times) if time in TIMES)
    if answers.modality in MODALITIES and answers.modality != "either":
        params.append(("modality", answers.modality))
    return params


def parse_times(values: Sequence[str]) -> frozenset[str]:
    return frozenset(value for value in values if value in TIMES)

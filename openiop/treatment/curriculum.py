"""The built-in group curriculum, written for OpenIOP in our own words. Pure data, no Django imports.

A program adds its own modules (models.CurriculumModule); a group Session carries the module's slug in
Session.module."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Module:
    slug: str
    title: str
    objectives: tuple[str, ...]
    outline: tuple[str, ...]


BUILT_IN: tuple[Module, ...] = (
    Module(
        "coping-strategies",
        "Coping strategies",
        (
            "Name three early signs that stress is building.",
            "Practise one grounding skill and one calming breath pattern.",
            "Choose a coping step to try before the next session.",
        ),
        (
            "Check-in round: one word for how the week went (10 min).",
            "Short teaching: stress, the body's alarm, and why coping skills help (15 min).",
            "Practice: 5-4-3-2-1 grounding and paced breathing, then talk about how it felt (25 min).",
            "Pairs: each person plans when they will use a skill this week (20 min).",
            "Close: one thing to take away (10 min).",
        ),
    ),
    Module(
        "relapse-prevention",
        "Relapse prevention",
        (
            "Map personal high-risk situations, people and feelings.",
            "Tell a lapse from a relapse and plan a response to each.",
            "Write the first steps of a personal relapse-prevention plan.",
        ),
        (
            "Check-in round, including any cravings since the last session (10 min).",
            "Teaching: relapse as a process with warning signs, not a single event (15 min).",
            "Exercise: each person maps triggers and early warning signs (25 min).",
            "Group discussion: responses that have worked, and who to call (20 min).",
            "Close: one step of the plan to try this week (10 min).",
        ),
    ),
    Module(
        "communication-skills",
        "Communication skills",
        (
            "Use 'I' statements to say what one needs.",
            "Practise listening back before answering.",
            "Plan one hard conversation and how to keep it safe.",
        ),
        (
            "Check-in round (10 min).",
            "Teaching: passive, aggressive and assertive styles, with everyday examples (15 min).",
            "Role-play in pairs: asking for support, saying no (25 min).",
            "Discussion: what made the role-play easier or harder (20 min).",
            "Close: a conversation each person will try this week (10 min).",
        ),
    ),
)

BUILT_IN_BY_SLUG = {module.slug: module for module in BUILT_IN}

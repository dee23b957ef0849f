"""Write the built-in instruments as FHIR R4 Questionnaire JSON files.

The option labels and scores come from openiop/measures/scoring.py (one source
of truth for scoring); the item wording and copyright lines are here. Run it
after changing either, and commit the JSON:

    .venv/bin/python scripts/build_instruments.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openiop.measures import scoring  # noqa: E402

OUT = ROOT / "openiop" / "measures" / "instruments"
BASE = "https://openiop.org/fhir"
LOINC = "http://loinc.org"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
CRITICAL = f"{BASE}/StructureDefinition/critical-item"

PFIZER = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an educational "
    "grant from Pfizer Inc. No permission required to reproduce, translate, display or distribute."
)

SPEC: dict[str, dict[str, Any]] = {
    "phq9": {
        "title": "Patient Health Questionnaire (PHQ-9)",
        "panel": "44249-1",
        "total": "44261-6",
        "copyright": PFIZER,
        "intro": "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
        "item_codes": [
            "44250-9",
            "44255-8",
            "44259-0",
            "44254-1",
            "44251-7",
            "44258-2",
            "44252-5",
            "44253-3",
            "44260-8",
            "69722-7",
        ],
        "answer_codes": ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"],
        "texts": [
            "Little interest or pleasure in doing things",
            "Feeling down, depressed, or hopeless",
            "Trouble falling or staying asleep, or sleeping too much",
            "Feeling tired or having little energy",
            "Poor appetite or overeating",
            "Feeling bad about yourself - or that you are a failure or have let yourself or your family down",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            "Moving or speaking so slowly that other people could have noticed? Or the opposite - being so fidgety "
            "or restless that you have been moving around a lot more than usual",
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            "If you checked off any problems, how difficult have these problems made it for you to do your work, "
            "take care of things at home, or get along with other people?",
        ],
    },
    "gad7": {
        "title": "Generalized Anxiety Disorder (GAD-7)",
        "panel": "69737-5",
        "total": "70274-6",
        "copyright": PFIZER,
        "intro": "Over the last 2 weeks, how often have you been bothered by the following problems?",
        "item_codes": ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"],
        "texts": [
            "Feeling nervous, anxious, or on edge",
            "Not being able to stop or control worrying",
            "Worrying too much about different things",
            "Trouble relaxing",
            "Being so restless that it is hard to sit still",
            "Becoming easily annoyed or irritable",
            "Feeling afraid, as if something awful might happen",
        ],
    },
    "audit": {
        "title": "Alcohol Use Disorders Identification Test (AUDIT)",
        "panel": "72110-0",
        "total": "75624-7",
        "copyright": "AUDIT: Babor, Higgins-Biddle, Saunders & Monteiro, World Health Organization, 2001. "
        "Public domain.",
        "intro": "These questions are about your use of alcoholic beverages during the past year. "
        "A drink means one standard drink.",
        "texts": [
            "How often do you have a drink containing alcohol?",
            "How many drinks containing alcohol do you have on a typical day when you are drinking?",
            "How often do you have six or more drinks on one occasion?",
            "How often during the last year have you found that you were not able to stop drinking once you had "
            "started?",
            "How often during the last year have you failed to do what was normally expected of you because of "
            "drinking?",
            "How often during the last year have you needed a first drink in the morning to get yourself going "
            "after a heavy drinking session?",
            "How often during the last year have you had a feeling of guilt or remorse after drinking?",
            "How often during the last year have you been unable to remember what happened the night before "
            "because of your drinking?",
            "Have you or someone else been injured because of your drinking?",
            "Has a relative, friend, doctor, or other health care worker been concerned about your drinking or "
            "suggested you cut down?",
        ],
    },
    "auditc": {
        "title": "AUDIT-C (alcohol consumption questions)",
        "panel": "72109-2",
        "total": "75626-2",
        "copyright": "AUDIT-C: the first three AUDIT questions (World Health Organization, 2001). Public domain.",
        "intro": "These questions are about your use of alcoholic beverages during the past year.",
        "texts": [
            "How often do you have a drink containing alcohol?",
            "How many drinks containing alcohol do you have on a typical day when you are drinking?",
            "How often do you have six or more drinks on one occasion?",
        ],
    },
    "dast10": {
        "title": "Drug Abuse Screening Test (DAST-10)",
        "panel": "82666-9",
        "total": "82667-7",
        "copyright": "© 1982 Harvey A. Skinner, PhD, and the Centre for Addiction and Mental Health, Toronto, "
        "Canada. Used with permission.",
        "intro": "These questions refer to the past 12 months. Drug use means using prescribed or over-the-counter "
        "drugs in excess of the directions, and any non-medical use of drugs. It does not include alcohol or "
        "tobacco.",
        "texts": [
            "Have you used drugs other than those required for medical reasons?",
            "Do you use more than one drug at a time?",
            "Are you always able to stop using drugs when you want to?",
            'Have you had "blackouts" or "flashbacks" as a result of drug use?',
            "Do you ever feel bad or guilty about your drug use?",
            "Does your spouse (or parents) ever complain about your involvement with drugs?",
            "Have you neglected your family because of your use of drugs?",
            "Have you engaged in illegal activities in order to obtain drugs?",
            "Have you ever experienced withdrawal symptoms (felt sick) when you stopped taking drugs?",
            "Have you had medical problems as a result of your drug use (e.g. memory loss, hepatitis, convulsions, "
            "bleeding)?",
        ],
    },
    "pcl5": {
        "title": "PTSD Checklist for DSM-5 (PCL-5)",
        "panel": "101697-1",
        "total": "101698-9",
        "copyright": "PCL-5: Weathers, Litz, Keane, Palmieri, Marx & Schnurr (2013), National Center for PTSD, "
        "U.S. Department of Veterans Affairs. Public domain.",
        "intro": "Below is a list of problems that people sometimes have in response to a very stressful "
        "experience. In the past month, how much were you bothered by:",
        "texts": [
            "Repeated, disturbing, and unwanted memories of the stressful experience?",
            "Repeated, disturbing dreams of the stressful experience?",
            "Suddenly feeling or acting as if the stressful experience were actually happening again (as if you "
            "were actually back there reliving it)?",
            "Feeling very upset when something reminded you of the stressful experience?",
            "Having strong physical reactions when something reminded you of the stressful experience (for "
            "example, heart pounding, trouble breathing, sweating)?",
            "Avoiding memories, thoughts, or feelings related to the stressful experience?",
            "Avoiding external reminders of the stressful experience (for example, people, places, conversations, "
            "activities, objects, or situations)?",
            "Trouble remembering important parts of the stressful experience?",
            "Having strong negative beliefs about yourself, other people, or the world (for example, having "
            "thoughts such as: I am bad, there is something seriously wrong with me, no one can be trusted, the "
            "world is completely dangerous)?",
            "Blaming yourself or someone else for the stressful experience or what happened after it?",
            "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
            "Loss of interest in activities that you used to enjoy?",
            "Feeling distant or cut off from other people?",
            "Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving "
            "feelings for people close to you)?",
            "Irritable behavior, angry outbursts, or acting aggressively?",
            "Taking too many risks or doing things that could cause you harm?",
            'Being "superalert" or watchful or on guard?',
            "Feeling jumpy or easily startled?",
            "Having difficulty concentrating?",
            "Trouble falling or staying asleep?",
        ],
    },
    "who5": {
        "title": "WHO-5 Well-Being Index",
        "copyright": "© Psychiatric Research Unit, WHO Collaborating Centre in Mental Health, Mental Health Centre "
        "North Zealand, Denmark. Free to use.",
        "intro": "Please indicate for each of the five statements which is closest to how you have been feeling "
        "over the last two weeks.",
        "texts": [
            "I have felt cheerful and in good spirits",
            "I have felt calm and relaxed",
            "I have felt active and vigorous",
            "I woke up feeling fresh and rested",
            "My daily life has been filled with things that interest me",
        ],
    },
    "bam": {
        "title": "Brief Addiction Monitor (BAM), 17-item VA version",
        "copyright": "Brief Addiction Monitor (BAM), U.S. Department of Veterans Affairs; 17-item version described "
        "by Cacciola et al., J Subst Abuse Treat 2013;44:256-263. Public domain.",
        "intro": "This is a list of questions about your health and recovery in the past 30 days.",
        "texts": [
            "In the past 30 days, would you say your physical health has been:",
            "In the past 30 days, how many nights did you have trouble falling asleep or staying asleep?",
            "In the past 30 days, how many days have you felt depressed, anxious, angry or very upset throughout "
            "most of the day?",
            "In the past 30 days, how many days did you drink ANY alcohol?",
            "In the past 30 days, how many days did you have at least 5 drinks (if you are a man) or at least 4 "
            "drinks (if you are a woman)? One drink is a 12 oz. can of beer, a 5 oz. glass of wine, or a mixed "
            "drink with 1.5 oz. of liquor.",
            "In the past 30 days, how many days did you use any illegal or street drugs, or misuse any "
            "prescription medications?",
            "In the past 30 days, how many days did you use any of the following drugs?",
            "In the past 30 days, how much were you bothered by cravings or urges to drink alcohol or use drugs?",
            "How confident are you in your ability to be completely abstinent (clean) from alcohol and drugs in "
            "the next 30 days?",
            "In the past 30 days, how many days did you attend self-help meetings like AA or NA to support your "
            "recovery?",
            "In the past 30 days, how many days were you in any situations or with any people that might put you "
            "at an increased risk for using alcohol or drugs (i.e., around risky people, places or things)?",
            "Does your religion or spirituality help support your recovery?",
            "In the past 30 days, how many days did you spend much of the time at work, school, or doing volunteer "
            "work?",
            "Do you have enough income (from legal sources) to pay for necessities such as housing, "
            "transportation, food and clothing for yourself and your dependents?",
            "In the past 30 days, how much have you been bothered by arguments or problems getting along with any "
            "family members or friends?",
            "In the past 30 days, how many days were you in contact or spent time with any family members or "
            "friends who are supportive of your recovery?",
            "How satisfied are you with your progress toward achieving your recovery goals?",
        ],
        "drugs": [
            "Marijuana (cannabis, pot, weed)",
            "Sedatives or tranquilizers (e.g. benzos, Valium, Xanax, Ativan, Ambien, barbs, phenobarbital, downers)",
            "Cocaine or crack",
            "Other stimulants (e.g. amphetamine, methamphetamine, Dexedrine, Ritalin, Adderall, speed, crystal meth, "
            "ice)",
            "Opiates (e.g. heroin, morphine, Dilaudid, Demerol, OxyContin, oxy, codeine (Tylenol 2, 3, 4), "
            "Percocet, Vicodin, fentanyl)",
            "Inhalants (glues, adhesives, nail polish remover, paint thinner)",
            "Other drugs (steroids, non-prescription sleep or diet pills, Benadryl, ephedra, other over-the-counter "
            "or unknown medications)",
        ],
    },
}


def answer_option(key: str, spec: dict[str, Any], item: scoring.Item, index: int) -> dict[str, Any]:
    codes = spec.get("answer_codes")
    if codes and len(item.labels) == len(codes) and item.number <= 9:
        coding = {"system": LOINC, "code": codes[index], "display": item.labels[index]}
    else:
        coding = {
            "system": f"{BASE}/CodeSystem/{key}-answers",
            "code": f"{item.number}-{index}",
            "display": item.labels[index],
        }
    return {"extension": [{"url": ORDINAL, "valueDecimal": item.scores[index]}], "valueCoding": coding}


def question(key: str, spec: dict[str, Any], item: scoring.Item) -> dict[str, Any]:
    instrument = scoring.INSTRUMENTS[key]
    out: dict[str, Any] = {
        "linkId": str(item.number),
        "prefix": f"{item.number}.",
        "text": spec["texts"][item.number - 1],
    }
    codes = spec.get("item_codes")
    if codes:
        out["code"] = [{"system": LOINC, "code": codes[item.number - 1]}]
    if key == "bam" and item.number == 7:
        out["type"] = "group"
        out["enableWhen"] = [
            {
                "question": "6",
                "operator": "!=",
                "answerCoding": {"system": f"{BASE}/CodeSystem/bam-answers", "code": "6-0"},
            }
        ]
        out["item"] = [
            {
                "linkId": f"7{letter}",
                "prefix": f"7{letter.upper()}.",
                "text": drug,
                "type": "integer",
                "extension": [
                    {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 0},
                    {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 30},
                ],
            }
            for letter, drug in zip("abcdefg", spec["drugs"], strict=True)
        ]
        return out
    out["type"] = "choice"
    out["required"] = item.scored
    if item.number in instrument.critical_above:
        out["extension"] = [{"url": CRITICAL, "valueBoolean": True}]
    out["answerOption"] = [answer_option(key, spec, item, index) for index in range(len(item.labels))]
    return out


def questionnaire(key: str) -> dict[str, Any]:
    spec = SPEC[key]
    instrument = scoring.INSTRUMENTS[key]
    out: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": key,
        "url": f"{BASE}/Questionnaire/{key}",
        "version": "1",
        "name": instrument.title.replace("-", ""),
        "title": spec["title"],
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "OpenIOP",
        "copyright": spec["copyright"],
    }
    if "panel" in spec:
        out["code"] = [{"system": LOINC, "code": spec["panel"]}]
    items: list[dict[str, Any]] = [{"linkId": "intro", "type": "display", "text": spec["intro"]}]
    items += [question(key, spec, item) for item in instrument.items]
    out["item"] = items
    return out


def main() -> None:
    for key in SPEC:
        path = OUT / f"{key}.json"
        path.write_text(json.dumps(questionnaire(key), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()

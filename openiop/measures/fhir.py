"""FHIR R4 Questionnaires: import, answers, scoring, export. No Django here.

`parse_questionnaire(data)` validates a Questionnaire with fhir.resources
(the R4B models, which accept R4 content) and turns it into a tree of
`QItem`s that the form renderer and the scorer share. What we cannot render
or score faithfully raises `QuestionnaireError` naming the construct, so a
questionnaire is never half-understood.

Supported: item types choice, integer, decimal, boolean, string, text,
display and group; `required`; `enableWhen` (+ `enableBehavior`); choice
options from `answerOption` (valueCoding / valueString / valueInteger) or
from a *contained* ValueSet (`answerValueSet: "#id"`); `ordinalValue`
extensions on options or ValueSet concepts; the min/maxValue extensions.
Items with an SDC `calculatedExpression` (a total computed by the form) are
read-only: not shown, never asked, their answers ignored -- we recompute
totals from the items ourselves. FHIRPath is never evaluated.

A questionnaire is recognised as one of our instruments by our canonical
URL, by its LOINC panel code or by a LOINC total-score item; then it is
scored by openiop.measures.scoring (the published rules, bands, subscales),
after checking that its options' ordinal values match the published scores.
Anything else is scored as the sum of the chosen options' ordinal values,
with no band and no prorating.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from openiop.measures import scoring

BASE = "https://openiop.org/fhir"
LOINC = "http://loinc.org"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ORDINAL_ALT = "http://hl7.org/fhir/StructureDefinition/itemWeight"  # R5 name, seen in the wild
CRITICAL = f"{BASE}/StructureDefinition/critical-item"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
CALCULATED = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
VARIABLE = "http://hl7.org/fhir/StructureDefinition/variable"
# Extensions that change which items show or what they offer, computed by
# FHIRPath/CQL we do not run: refusing them beats rendering the wrong form.
UNSUPPORTED_EXTENSIONS = {
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression": "enableWhenExpression",
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-answerExpression": "answerExpression",
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-candidateExpression": "candidateExpression",
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression": "initialExpression",
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-itemPopulationContext": "itemPopulationContext",
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-subQuestionnaire": "subQuestionnaire",
}
# Extensions we remove before validating because we deliberately ignore them
# (their FHIRPath is never run) and real files carry variable names that the
# strict R4 `id` pattern rejects (e.g. NLM's "q1_value").
IGNORED_EXTENSIONS = {VARIABLE, CALCULATED}
SUPPORTED_TYPES = {"choice", "integer", "decimal", "boolean", "string", "text", "display", "group"}
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}

# instrument key -> (LOINC panel, LOINC total score)
LOINC_CODES: dict[str, tuple[str | None, str | None]] = {
    "phq9": ("44249-1", "44261-6"),
    "gad7": ("69737-5", "70274-6"),
    "audit": ("72110-0", "75624-7"),
    "auditc": ("72109-2", "75626-2"),
    "dast10": ("82666-9", "82667-7"),
    "pcl5": ("101697-1", "101698-9"),
    "who5": (None, None),
    "bam": (None, None),
}
INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"


class QuestionnaireError(ValueError):
    """A Questionnaire (or a response to one) we cannot use; the message names why."""


@dataclass(frozen=True)
class Option:
    index: int
    display: str
    kind: str  # "coding" | "string" | "integer"
    value: Any  # the FHIR value: {"system", "code", "display"} / str / int
    ordinal: Decimal | None

    @property
    def key(self) -> str:
        """A stable form value for this option."""
        return str(self.index)

    def matches(self, answer: Mapping[str, Any]) -> bool:
        if self.kind == "coding" and "valueCoding" in answer:
            coding = answer["valueCoding"]
            same_system = (
                not coding.get("system")
                or not self.value.get("system")
                or (coding.get("system") == self.value.get("system"))
            )
            return bool(same_system and coding.get("code") == self.value.get("code"))
        if self.kind == "string" and "valueString" in answer:
            return bool(answer["valueString"] == self.value)
        if self.kind == "integer" and "valueInteger" in answer:
            return bool(answer["valueInteger"] == self.value)
        return False

    def fhir_answer(self) -> dict[str, Any]:
        return {"coding": {"valueCoding": self.value}, "string": {"valueString": self.value}}.get(
            self.kind, {"valueInteger": self.value}
        )


@dataclass(frozen=True)
class Condition:
    question: str
    operator: str
    kind: str  # the answer[x] type name, e.g. "Coding", "Integer", "Boolean"
    value: Any


@dataclass
class QItem:
    link_id: str
    type: str
    text: str
    prefix: str = ""
    required: bool = False
    options: list[Option] = field(default_factory=list)
    children: list[QItem] = field(default_factory=list)
    enable_when: list[Condition] = field(default_factory=list)
    enable_any: bool = False
    critical: bool = False
    codes: list[tuple[str, str]] = field(default_factory=list)
    min_value: Decimal | None = None
    max_value: Decimal | None = None

    @property
    def is_question(self) -> bool:
        return self.type not in ("group", "display")


@dataclass
class ParsedQuestionnaire:
    resource: dict[str, Any]  # the JSON as given (validated with the ignored extensions removed)
    title: str
    url: str
    copyright: str
    items: list[QItem]
    instrument_key: str | None
    warnings: list[str]

    def walk(self) -> Iterator[QItem]:
        return _walk(self.items)

    def questions(self) -> list[QItem]:
        return [item for item in self.walk() if item.is_question]

    def by_link_id(self) -> dict[str, QItem]:
        return {item.link_id: item for item in self.walk()}

    @property
    def instrument(self) -> scoring.Instrument | None:
        return scoring.INSTRUMENTS.get(self.instrument_key) if self.instrument_key else None


def _walk(items: Iterable[QItem]) -> Iterator[QItem]:
    for item in items:
        yield item
        yield from _walk(item.children)


# -- import --------------------------------------------------------------------


def load_builtin(key: str) -> ParsedQuestionnaire:
    return parse_questionnaire(json.loads((INSTRUMENTS_DIR / f"{key}.json").read_text(encoding="utf-8")))


def builtin_keys() -> list[str]:
    return sorted(path.stem for path in INSTRUMENTS_DIR.glob("*.json"))


def parse_questionnaire(data: Any, *, critical_link_ids: Iterable[str] = ()) -> ParsedQuestionnaire:
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise QuestionnaireError(f"Expected a FHIR Questionnaire; got {found!r}.")
    warnings: list[str] = []
    cleaned, dropped = _drop_ignored_extensions(data)
    if dropped:
        warnings.append(
            "Ignored calculated expressions and variables (FHIRPath is not run; totals are recomputed from "
            f"the answers): {', '.join(sorted(dropped))}."
        )
    try:
        Questionnaire.model_validate(cleaned)
    except ValidationError as error:
        raise QuestionnaireError(f"Not a valid FHIR R4 Questionnaire: {_first_errors(error)}") from None
    contained = {
        str(entry.get("id")): entry
        for entry in cleaned.get("contained", [])
        if isinstance(entry, dict) and entry.get("resourceType") == "ValueSet"
    }
    critical = set(critical_link_ids)
    calculated = _calculated_link_ids(data)
    items = [
        item for raw in cleaned.get("item", []) if (item := _item(raw, contained, critical, calculated)) is not None
    ]
    parsed = ParsedQuestionnaire(
        resource=data,
        title=str(cleaned.get("title") or cleaned.get("name") or "Questionnaire"),
        url=str(cleaned.get("url") or ""),
        copyright=str(cleaned.get("copyright") or ""),
        items=items,
        instrument_key=None,
        warnings=warnings,
    )
    if not parsed.questions():
        raise QuestionnaireError("The Questionnaire has no questions to answer.")
    _check_enable_when_targets(parsed)
    parsed.instrument_key = _recognise(cleaned, calculated, data)
    if parsed.instrument is not None:
        _check_against_instrument(parsed)
    return parsed


def _drop_ignored_extensions(data: Any) -> tuple[Any, set[str]]:
    dropped: set[str] = set()

    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "extension" and isinstance(value, list):
                    kept = []
                    for ext in value:
                        if isinstance(ext, dict) and ext.get("url") in IGNORED_EXTENSIONS:
                            dropped.add(str(ext["url"]).rsplit("/", 1)[-1])
                        else:
                            kept.append(clean(ext))
                    if kept:
                        out[key] = kept
                else:
                    out[key] = clean(value)
            return out
        if isinstance(node, list):
            return [clean(entry) for entry in node]
        return node

    return clean(data), dropped


def _calculated_link_ids(data: Any) -> set[str]:
    found: set[str] = set()

    def visit(items: Any) -> None:
        for raw in items or []:
            if not isinstance(raw, dict):
                continue
            urls = {ext.get("url") for ext in raw.get("extension", []) if isinstance(ext, dict)}
            if CALCULATED in urls or raw.get("readOnly"):
                found.add(str(raw.get("linkId")))
            visit(raw.get("item"))

    visit(data.get("item") if isinstance(data, dict) else None)
    return found


def _first_errors(error: ValidationError) -> str:
    parts = []
    for entry in error.errors()[:3]:
        where = ".".join(str(p) for p in entry["loc"])
        parts.append(f"{where}: {entry['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _ordinal(extensions: Any) -> Decimal | None:
    for ext in extensions or []:
        if isinstance(ext, dict) and ext.get("url") in (ORDINAL, ORDINAL_ALT):
            value = ext.get("valueDecimal", ext.get("valueInteger"))
            if value is not None:
                return Decimal(str(value))
    return None


def _extension_value(raw: Mapping[str, Any], url: str) -> Any:
    for ext in raw.get("extension", []) or []:
        if isinstance(ext, dict) and ext.get("url") == url:
            for key, value in ext.items():
                if key.startswith("value"):
                    return value
    return None


def _item(raw: dict[str, Any], contained: Mapping[str, Any], critical: set[str], calculated: set[str]) -> QItem | None:
    link_id = str(raw["linkId"])
    kind = str(raw["type"])
    where = f"item {link_id!r}"
    if link_id in calculated and kind != "group":
        return None  # a computed total: never asked, never trusted
    for ext in raw.get("extension", []) or []:
        name = UNSUPPORTED_EXTENSIONS.get(ext.get("url", "")) if isinstance(ext, dict) else None
        if name:
            raise QuestionnaireError(f"Unsupported construct in {where}: the {name} extension.")
    if kind not in SUPPORTED_TYPES:
        raise QuestionnaireError(f"Unsupported construct in {where}: item type {kind!r}.")
    if raw.get("repeats") and kind != "group":
        raise QuestionnaireError(f"Unsupported construct in {where}: repeating answers (repeats: true).")
    if raw.get("repeats"):
        raise QuestionnaireError(f"Unsupported construct in {where}: a repeating group.")
    if raw.get("answerExpression") or raw.get("enableWhenExpression"):
        raise QuestionnaireError(f"Unsupported construct in {where}: an expression.")
    item = QItem(
        link_id=link_id,
        type=kind,
        text=str(raw.get("text") or ""),
        prefix=str(raw.get("prefix") or ""),
        required=bool(raw.get("required")) and kind not in ("display", "group"),
        critical=link_id in critical or _extension_value(raw, CRITICAL) is True,
        codes=[(str(c.get("system", "")), str(c.get("code", ""))) for c in raw.get("code", []) or []],
    )
    low, high = _extension_value(raw, MIN_VALUE), _extension_value(raw, MAX_VALUE)
    item.min_value = Decimal(str(low)) if isinstance(low, int | float) else None
    item.max_value = Decimal(str(high)) if isinstance(high, int | float) else None
    if kind == "choice":
        item.options = _options(raw, contained, where)
    elif raw.get("answerOption") or raw.get("answerValueSet"):
        raise QuestionnaireError(f"Unsupported construct in {where}: answer options on a {kind!r} item.")
    for condition in raw.get("enableWhen", []) or []:
        operator = condition.get("operator")
        if operator not in OPERATORS:
            raise QuestionnaireError(f"Unsupported construct in {where}: enableWhen operator {operator!r}.")
        answer_keys = [k for k in condition if k.startswith("answer")]
        answer_kind = answer_keys[0][len("answer") :]
        if answer_kind not in ("Coding", "Integer", "Decimal", "Boolean", "String"):
            raise QuestionnaireError(f"Unsupported construct in {where}: enableWhen on answer{answer_kind}.")
        item.enable_when.append(Condition(str(condition["question"]), operator, answer_kind, condition[answer_keys[0]]))
    item.enable_any = raw.get("enableBehavior") == "any"
    item.children = [
        child
        for raw_child in raw.get("item", []) or []
        if (child := _item(raw_child, contained, critical, calculated)) is not None
    ]
    if kind == "group" and not item.children:
        return None if raw.get("item") else item
    if item.children and kind != "group":
        raise QuestionnaireError(f"Unsupported construct in {where}: items nested under a question.")
    return item


def _options(raw: dict[str, Any], contained: Mapping[str, Any], where: str) -> list[Option]:
    options: list[Option] = []
    if raw.get("answerOption"):
        for index, entry in enumerate(raw["answerOption"]):
            ordinal = _ordinal(entry.get("extension"))
            if ordinal is None:  # some authors put it on the Coding instead
                ordinal = _ordinal((entry.get("valueCoding") or {}).get("extension"))
            if "valueCoding" in entry:
                coding = {
                    k: entry["valueCoding"][k] for k in ("system", "code", "display") if k in entry["valueCoding"]
                }
                display = str(coding.get("display") or coding.get("code"))
                options.append(Option(index, display, "coding", coding, ordinal))
            elif "valueString" in entry:
                options.append(Option(index, entry["valueString"], "string", entry["valueString"], ordinal))
            elif "valueInteger" in entry:
                options.append(Option(index, str(entry["valueInteger"]), "integer", entry["valueInteger"], ordinal))
            else:
                kinds = ", ".join(k for k in entry if k.startswith("value"))
                raise QuestionnaireError(f"Unsupported construct in {where}: an answer option of type {kinds}.")
        return options
    reference = raw.get("answerValueSet")
    if not reference:
        raise QuestionnaireError(f"Item {where} is a choice with no answer options.")
    if not str(reference).startswith("#") or str(reference)[1:] not in contained:
        raise QuestionnaireError(
            f"Unsupported construct in {where}: answerValueSet {reference!r} is not a contained ValueSet "
            "(external value sets are not fetched)."
        )
    valueset = contained[str(reference)[1:]]
    compose = valueset.get("compose", {})
    if compose.get("exclude") or any("filter" in inc or "valueSet" in inc for inc in compose.get("include", [])):
        raise QuestionnaireError(f"Unsupported construct in {where}: a ValueSet with filters or exclusions.")
    index = 0
    for include in compose.get("include", []):
        if not include.get("concept"):
            raise QuestionnaireError(f"Unsupported construct in {where}: a ValueSet that includes a whole code system.")
        for concept in include["concept"]:
            coding = {
                "system": include.get("system", ""),
                "code": concept["code"],
                "display": concept.get("display", ""),
            }
            display = str(concept.get("display") or concept["code"])
            options.append(Option(index, display, "coding", coding, _ordinal(concept.get("extension"))))
            index += 1
    return options


def _check_enable_when_targets(parsed: ParsedQuestionnaire) -> None:
    known = parsed.by_link_id()
    for item in parsed.walk():
        for condition in item.enable_when:
            if condition.question not in known:
                raise QuestionnaireError(
                    f"Item {item.link_id!r}: enableWhen refers to {condition.question!r}, which is not in the "
                    "Questionnaire."
                )


def _recognise(cleaned: Mapping[str, Any], calculated: set[str], original: Any) -> str | None:
    url = str(cleaned.get("url") or "")
    prefix = f"{BASE}/Questionnaire/"
    if url.startswith(prefix) and url[len(prefix) :] in scoring.INSTRUMENTS:
        return url[len(prefix) :]
    codes = {str(c.get("code")) for c in cleaned.get("code", []) or [] if c.get("system") == LOINC}
    codes |= {str(i.get("value")) for i in cleaned.get("identifier", []) or [] if i.get("system") == LOINC}

    def item_codes(items: Any) -> Iterator[str]:
        for raw in items or []:
            for coding in raw.get("code", []) or []:
                if coding.get("system") == LOINC:
                    yield str(coding.get("code"))
            yield from item_codes(raw.get("item"))

    total_codes = set(item_codes(original.get("item")))
    for key, (panel, total) in LOINC_CODES.items():
        if (panel and panel in codes) or (total and total in total_codes):
            return key
    return None


def _choice_questions(parsed: ParsedQuestionnaire) -> list[QItem]:
    return [item for item in parsed.questions() if item.type == "choice"]


def _check_against_instrument(parsed: ParsedQuestionnaire) -> None:
    """A recognised instrument's choice items must line up with the published
    items, and any ordinal values must equal the published scores."""
    instrument = parsed.instrument
    assert instrument is not None
    choices = _choice_questions(parsed)
    expected = [item for item in instrument.items if item.labels]
    trailing_unscored = 0
    for item in reversed(expected):
        if item.scored:
            break
        trailing_unscored += 1
    if not len(expected) - trailing_unscored <= len(choices) <= len(expected):
        raise QuestionnaireError(
            f"Recognised as {instrument.title} by its codes, but it has {len(choices)} choice items; "
            f"{instrument.title} has {len(expected)}. Not scored rather than scored wrongly."
        )
    for question, published in zip(choices, expected, strict=False):
        if len(question.options) != len(published.labels):
            raise QuestionnaireError(
                f"Item {question.link_id!r} has {len(question.options)} options; {instrument.title} item "
                f"{published.number} has {len(published.labels)}."
            )
        for option, score in zip(question.options, published.scores, strict=True):
            if option.ordinal is not None and option.ordinal != score:
                raise QuestionnaireError(
                    f"Item {question.link_id!r}, option {option.display!r}: ordinalValue {option.ordinal} differs "
                    f"from the published {instrument.title} score {score}."
                )
        if published.number in instrument.critical_above:
            question.critical = True


# -- answers -------------------------------------------------------------------

Answers = dict[str, Any]  # linkId -> Option | int | Decimal | bool | str


def enabled_link_ids(parsed: ParsedQuestionnaire, answers: Mapping[str, Any]) -> set[str]:
    """The items shown given `answers` (an item under a disabled group is disabled)."""
    enabled: set[str] = set()

    def visit(items: Iterable[QItem], parent_enabled: bool) -> None:
        for item in items:
            on = parent_enabled and _is_enabled(item, answers, enabled)
            if on:
                enabled.add(item.link_id)
            visit(item.children, on)

    visit(parsed.items, True)
    return enabled


def _is_enabled(item: QItem, answers: Mapping[str, Any], enabled: set[str]) -> bool:
    if not item.enable_when:
        return True
    results = [
        _condition_holds(c, answers.get(c.question) if c.question in enabled else None) for c in item.enable_when
    ]
    return any(results) if item.enable_any else all(results)


def _condition_holds(condition: Condition, answer: Any) -> bool:
    if condition.operator == "exists":
        return (answer is not None) == bool(condition.value)
    if answer is None:
        return condition.operator == "!="
    if isinstance(answer, Option):
        if condition.kind == "Coding":
            same = answer.kind == "coding" and answer.value.get("code") == condition.value.get("code")
        elif condition.kind == "Integer":
            same = answer.kind == "integer" and answer.value == condition.value
        else:
            same = answer.kind == "string" and answer.value == condition.value
        if condition.operator in ("=", "!="):
            return same == (condition.operator == "=")
        return False
    target = condition.value
    if isinstance(answer, bool) or isinstance(target, bool):
        return (answer == target) == (condition.operator == "=") if condition.operator in ("=", "!=") else False
    if isinstance(answer, int | Decimal) and isinstance(target, int | float | str):
        left, right = Decimal(str(answer)), Decimal(str(target))
    else:
        left, right = str(answer), str(target)  # type: ignore[assignment]
    return {
        "=": left == right,
        "!=": left != right,
        ">": left > right,
        "<": left < right,
        ">=": left >= right,
        "<=": left <= right,
    }[condition.operator]


def answers_from_response(parsed: ParsedQuestionnaire, data: Any) -> Answers:
    """The answers in a FHIR QuestionnaireResponse, checked against `parsed`."""
    if not isinstance(data, dict) or data.get("resourceType") != "QuestionnaireResponse":
        found = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise QuestionnaireError(f"Expected a FHIR QuestionnaireResponse; got {found!r}.")
    try:
        QuestionnaireResponse.model_validate(data)
    except ValidationError as error:
        raise QuestionnaireError(f"Not a valid FHIR R4 QuestionnaireResponse: {_first_errors(error)}") from None
    known = parsed.by_link_id()
    skipped = {link for link in _all_link_ids(parsed.resource) if link not in known}
    answers: Answers = {}

    def visit(items: Any) -> None:
        for raw in items or []:
            link_id = str(raw.get("linkId"))
            if link_id in skipped:
                continue  # a calculated item: its value is ignored, never trusted
            item = known.get(link_id)
            if item is None:
                raise QuestionnaireError(f"The response answers item {link_id!r}, which is not in the Questionnaire.")
            values = raw.get("answer") or []
            if len(values) > 1:
                raise QuestionnaireError(f"Item {link_id!r} has {len(values)} answers; it takes one.")
            if values:
                if not item.is_question:
                    raise QuestionnaireError(f"Item {link_id!r} is a {item.type}; it cannot be answered.")
                answers[link_id] = _answer_value(item, values[0])
                visit(values[0].get("item"))
            visit(raw.get("item"))

    visit(data.get("item"))
    return answers


def _all_link_ids(resource: Mapping[str, Any]) -> set[str]:
    out: set[str] = set()

    def visit(items: Any) -> None:
        for raw in items or []:
            out.add(str(raw.get("linkId")))
            visit(raw.get("item"))

    visit(resource.get("item"))
    return out


def _answer_value(item: QItem, answer: Mapping[str, Any]) -> Any:
    where = f"Item {item.link_id!r}"
    if item.type == "choice":
        for option in item.options:
            if option.matches(answer):
                return option
        raise QuestionnaireError(f"{where}: the answer {_show(answer)} is not one of its options.")
    expected = {
        "integer": "valueInteger",
        "decimal": "valueDecimal",
        "boolean": "valueBoolean",
        "string": "valueString",
        "text": "valueString",
    }[item.type]
    if expected not in answer:
        raise QuestionnaireError(f"{where} is {item.type}; the answer {_show(answer)} is not.")
    value = answer[expected]
    if item.type == "decimal":
        value = Decimal(str(value))
    check_range(item, value)
    return value


def check_range(item: QItem, value: Any) -> None:
    if item.type not in ("integer", "decimal"):
        return
    if item.min_value is not None and Decimal(str(value)) < item.min_value:
        raise QuestionnaireError(f"Item {item.link_id!r}: {value} is below the minimum {item.min_value}.")
    if item.max_value is not None and Decimal(str(value)) > item.max_value:
        raise QuestionnaireError(f"Item {item.link_id!r}: {value} is above the maximum {item.max_value}.")


def _show(answer: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in answer.items() if k != "item"}, default=str)


def missing_required(parsed: ParsedQuestionnaire, answers: Mapping[str, Any]) -> list[QItem]:
    enabled = enabled_link_ids(parsed, answers)
    return [
        item
        for item in parsed.questions()
        if item.required and item.link_id in enabled and answers.get(item.link_id) in (None, "")
    ]


# -- scoring -------------------------------------------------------------------


def score(
    parsed: ParsedQuestionnaire,
    answers: Mapping[str, Any],
    *,
    thresholds: scoring.Thresholds = scoring.DEFAULT_THRESHOLDS,
) -> scoring.Score:
    """Score `answers`; answers to disabled items are ignored."""
    enabled = enabled_link_ids(parsed, answers)
    live = {link: value for link, value in answers.items() if link in enabled}
    instrument = parsed.instrument
    if instrument is not None:
        return _score_instrument(parsed, instrument, live, thresholds)
    return _score_generic(parsed, live)


def _score_instrument(
    parsed: ParsedQuestionnaire,
    instrument: scoring.Instrument,
    answers: Mapping[str, Any],
    thresholds: scoring.Thresholds,
) -> scoring.Score:
    choices = _choice_questions(parsed)
    published = [item for item in instrument.items if item.labels]
    item_scores: list[int | None] = [None] * len(instrument.items)
    extra_critical: list[int] = []
    for question, item in zip(choices, published, strict=False):
        answer = answers.get(question.link_id)
        if isinstance(answer, Option):
            item_scores[item.number - 1] = item.scores[answer.index]
        if question.critical and item.number not in instrument.critical_above:
            extra_critical.append(item.number)
    result = scoring.score_items(instrument, item_scores, thresholds=thresholds, extra_critical=extra_critical)
    result.warnings[:0] = parsed.warnings
    return result


def _score_generic(parsed: ParsedQuestionnaire, answers: Mapping[str, Any]) -> scoring.Score:
    warnings = list(parsed.warnings)
    questions = parsed.questions()
    critical: list[int] = []
    scored = [q for q in questions if q.type == "choice" and any(o.ordinal is not None for o in q.options)]
    for number, question in enumerate(questions, start=1):
        answer = answers.get(question.link_id)
        if not question.critical:
            continue
        if answer is None:
            warnings.append(f"Critical item {number} ({question.link_id}) was not answered: ask the person directly.")
        elif _positive(answer):
            critical.append(number)
    total: int | None = None
    if not scored:
        warnings.append("No answer options carry ordinalValue: no total.")
    else:
        missing = [q.link_id for q in scored if not isinstance(answers.get(q.link_id), Option)]
        if missing:
            warnings.append(f"No total: scored item(s) not answered: {', '.join(missing)}.")
        else:
            values = [answers[q.link_id].ordinal for q in scored]
            unscored = [q.link_id for q, v in zip(scored, values, strict=True) if v is None]
            if unscored:
                warnings.append(f"No total: the chosen option of {', '.join(unscored)} has no ordinalValue.")
            else:
                raw_total = sum((v for v in values if v is not None), Decimal(0))
                if raw_total != raw_total.to_integral_value():
                    warnings.append(f"No whole-number total: the ordinal values add up to {raw_total}.")
                else:
                    total = int(raw_total)
    return scoring.Score(parsed.url or parsed.title, total, None, critical, {}, warnings)


def _positive(answer: Any) -> bool:
    if isinstance(answer, Option):
        return (answer.ordinal if answer.ordinal is not None else answer.index) > 0
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, int | Decimal):
        return answer > 0
    return bool(answer)


# -- export --------------------------------------------------------------------


def _answer_json(item: QItem, value: Any) -> dict[str, Any]:
    if isinstance(value, Option):
        return value.fhir_answer()
    if item.type == "integer":
        return {"valueInteger": int(value)}
    if item.type == "decimal":
        return {"valueDecimal": float(value)}
    if item.type == "boolean":
        return {"valueBoolean": bool(value)}
    return {"valueString": str(value)}


def build_response(
    parsed: ParsedQuestionnaire,
    answers: Mapping[str, Any],
    *,
    response_id: str,
    subject: str,
    authored: str,
    author: str | None = None,
) -> dict[str, Any]:
    """A FHIR QuestionnaireResponse with the answers to enabled items, nested as the Questionnaire is."""
    enabled = enabled_link_ids(parsed, answers)

    def render(items: Iterable[QItem]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item in items:
            if item.link_id not in enabled or item.type == "display":
                continue
            if item.type == "group":
                children = render(item.children)
                if children:
                    out.append({"linkId": item.link_id, "text": item.text, "item": children})
                continue
            value = answers.get(item.link_id)
            if value is None or value == "":
                continue
            out.append({"linkId": item.link_id, "text": item.text, "answer": [_answer_json(item, value)]})
        return out

    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "status": "completed",
        "subject": {"reference": subject},
        "authored": authored,
        "item": render(parsed.items),
    }
    if parsed.url:
        version = parsed.resource.get("version")
        resource["questionnaire"] = f"{parsed.url}|{version}" if version else parsed.url
    if author:
        resource["author"] = {"reference": author}
    QuestionnaireResponse.model_validate(resource)
    return resource


def build_observations(
    parsed: ParsedQuestionnaire,
    result: scoring.Score,
    *,
    response_id: str,
    subject: str,
    effective: str,
) -> list[dict[str, Any]]:
    """Observations derived from a scored response: the total (LOINC-coded
    where a code exists) and each numeric subscale."""
    key = parsed.instrument_key
    panel, total_code = LOINC_CODES.get(key or "", (None, None))
    observations: list[dict[str, Any]] = []

    def observation(suffix: str, coding: dict[str, str], value: int) -> dict[str, Any]:
        resource = {
            "resourceType": "Observation",
            "id": f"{response_id}-{suffix}",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "survey",
                        }
                    ]
                }
            ],
            "code": {"coding": [coding], "text": coding["display"]},
            "subject": {"reference": subject},
            "effectiveDateTime": effective,
            "valueInteger": value,
            "derivedFrom": [{"reference": f"QuestionnaireResponse/{response_id}"}],
        }
        if result.band:
            resource["interpretation"] = [{"text": result.band}]
        Observation.model_validate(resource)
        return resource

    name = parsed.instrument.title if parsed.instrument else parsed.title
    if result.total is not None:
        if total_code:
            coding = {"system": LOINC, "code": total_code, "display": f"{name} total score"}
        else:
            coding = {
                "system": f"{BASE}/CodeSystem/scores",
                "code": f"{key or 'questionnaire'}-total",
                "display": f"{name} total score",
            }
        observations.append(observation("total", coding, result.total))
    for subscale, value in result.subscales.items():
        if isinstance(value, int) and not isinstance(value, bool):
            coding = {
                "system": f"{BASE}/CodeSystem/scores",
                "code": f"{key}-{subscale}",
                "display": f"{name} {subscale}",
            }
            observations.append(observation(subscale.replace("_", "-"), coding, value))
    del panel
    return observations

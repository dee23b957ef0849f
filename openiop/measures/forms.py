"""A Django form built from a parsed FHIR Questionnaire, and the tree the template renders."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openiop.measures import fhir

YES_NO = [("true", _("Yes")), ("false", _("No"))]


def _field_for(item: fhir.QItem) -> forms.Field:
    label = f"{item.prefix} {item.text}".strip()
    if item.type == "choice":
        return forms.ChoiceField(
            label=label, required=False, widget=forms.RadioSelect, choices=[(o.key, o.display) for o in item.options]
        )
    if item.type == "boolean":
        return forms.ChoiceField(label=label, required=False, widget=forms.RadioSelect, choices=YES_NO)
    if item.type == "integer":
        return forms.IntegerField(
            label=label,
            required=False,
            min_value=int(item.min_value) if item.min_value is not None else None,
            max_value=int(item.max_value) if item.max_value is not None else None,
        )
    if item.type == "decimal":
        return forms.DecimalField(
            label=label, required=False, min_value=item.min_value, max_value=item.max_value, max_digits=12
        )
    if item.type == "text":
        return forms.CharField(label=label, required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
    return forms.CharField(label=label, required=False, max_length=1000)


class QuestionnaireForm(forms.Form):
    def __init__(self, parsed: fhir.ParsedQuestionnaire, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parsed = parsed
        self.names: dict[str, str] = {}  # linkId -> field name
        for number, item in enumerate(parsed.questions(), start=1):
            name = f"q{number}"
            self.names[item.link_id] = name
            self.fields[name] = _field_for(item)
            if item.required and not isinstance(self.fields[name].widget, forms.RadioSelect):
                # radio buttons: their fieldset (role radiogroup) carries aria-required
                self.fields[name].widget.attrs["aria-required"] = "true"
        self.answers: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        answers: dict[str, Any] = {}
        for item in self.parsed.questions():
            value = cleaned.get(self.names[item.link_id])
            if value in (None, ""):
                continue
            if item.type == "choice":
                answers[item.link_id] = item.options[int(value)]
            elif item.type == "boolean":
                answers[item.link_id] = value == "true"
            elif item.type == "decimal":
                answers[item.link_id] = Decimal(value)
            else:
                answers[item.link_id] = value
        enabled = fhir.enabled_link_ids(self.parsed, answers)
        self.answers = {link: value for link, value in answers.items() if link in enabled}
        for item in fhir.missing_required(self.parsed, self.answers):
            self.add_error(self.names[item.link_id], _("Please answer this question."))
        return cleaned


@dataclass
class Node:
    item: fhir.QItem
    bound: forms.BoundField | None
    children: list[Node] = field(default_factory=list)
    conditions: str = ""  # JSON for measures.js; empty when always shown


def tree(form: QuestionnaireForm) -> list[Node]:
    """The questionnaire as nested nodes, each with its bound field."""
    by_link = form.parsed.by_link_id()

    def conditions(item: fhir.QItem) -> str:
        if not item.enable_when:
            return ""
        out = []
        for condition in item.enable_when:
            target = by_link[condition.question]
            name = form.names.get(target.link_id, "")
            value: Any = condition.value
            if condition.kind == "Coding":
                value = next(
                    (o.key for o in target.options if o.kind == "coding" and o.value.get("code") == value.get("code")),
                    "",
                )
            elif condition.kind == "Boolean":
                value = "true" if value else "false"
            elif target.type == "choice":
                value = next((o.key for o in target.options if o.value == value), "")
            out.append({"field": name, "op": condition.operator, "value": value})
        return json.dumps({"any": item.enable_any, "when": out})

    def build(items: list[fhir.QItem]) -> list[Node]:
        return [
            Node(
                item=item,
                bound=form[form.names[item.link_id]] if item.link_id in form.names else None,
                children=build(item.children),
                conditions=conditions(item),
            )
            for item in items
        ]

    return build(form.parsed.items)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("FHIR R4 Questionnaire (JSON file)"))
    critical_link_ids = forms.CharField(
        label=_("Critical items"),
        required=False,
        help_text=_(
            "linkIds of items whose answer above the lowest option must reach a clinician at once, separated by "
            "commas. Items coded as known critical items (PHQ-9 item 9) are critical anyway."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        try:
            return json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise forms.ValidationError(_("The file is not JSON text.")) from None

    def clean_critical_link_ids(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data["critical_link_ids"].split(",") if part.strip()]

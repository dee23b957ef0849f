"""manage.py score_response --questionnaire Q.json R.json"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.measures import conf, fhir


def read_json(path: str, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot read the {what} {path}: {error.strerror or error}.") from None
    except UnicodeDecodeError:
        raise CommandError(f"The {what} {path} is not UTF-8 text.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(f"The {what} {path} is not JSON: {error.msg} (line {error.lineno}).") from None


class Command(BaseCommand):
    help = (
        "Score a FHIR R4 QuestionnaireResponse against a FHIR R4 Questionnaire; prints one JSON object. "
        "Totals are recomputed from the item answers: a total in the response is ignored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--questionnaire", required=True, metavar="Q.json", help="The FHIR Questionnaire.")
        parser.add_argument("response", metavar="R.json", help="The FHIR QuestionnaireResponse.")

    def handle(self, *args: Any, **options: Any) -> None:
        questionnaire = read_json(options["questionnaire"], "questionnaire")
        response = read_json(options["response"], "response")
        try:
            parsed = fhir.parse_questionnaire(questionnaire)
            answers = fhir.answers_from_response(parsed, response)
            result = fhir.score(parsed, answers, thresholds=conf.thresholds())
        except fhir.QuestionnaireError as error:
            raise CommandError(str(error)) from None
        claimed = str(response.get("questionnaire") or "").split("|")[0]
        if claimed and parsed.url and claimed != parsed.url:
            result.warnings.append(
                f"The response says it answers {claimed}, not {parsed.url}; scored against the latter."
            )
        self.stdout.write(json.dumps(result.as_dict()))

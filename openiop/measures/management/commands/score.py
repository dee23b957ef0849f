"""manage.py score --instrument phq9 --answers 0,0,0,1,2,1,3,2,1"""

from __future__ import annotations

import json
from argparse import RawDescriptionHelpFormatter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, DjangoHelpFormatter

from openiop.measures import conf, scoring


class _HelpFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    pass


EPILOG = "\n\n".join(
    [
        "Answers are the 0-based index of the chosen option of each item, in the instrument's order, "
        "separated by commas. Leave an answer empty or write - for an item not answered "
        "(the missing-answer policy applies; a missing answer is never counted as 0). "
        "Each option below is shown as index=label (score). Yes/no items: 0 = No, 1 = Yes.",
        *(scoring.help_text(instrument) for instrument in scoring.INSTRUMENTS.values()),
    ]
)


def parse_answers(raw: str) -> list[int | None]:
    answers: list[int | None] = []
    for position, part in enumerate(raw.split(","), start=1):
        text = part.strip()
        if text in ("", "-"):
            answers.append(None)
        elif text.isdigit():
            answers.append(int(text))
        else:
            raise CommandError(
                f"Answer {position} is {text!r}: give an option index (0, 1, 2, ...), or - if not answered."
            )
    return answers


class Command(BaseCommand):
    help = "Score one instrument from the option chosen for each item; prints one JSON object."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        kwargs["formatter_class"] = _HelpFormatter
        kwargs["epilog"] = EPILOG
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instrument", required=True, help=f"One of: {', '.join(scoring.INSTRUMENTS)}.")
        parser.add_argument("--answers", required=True, help="Comma-separated option indices, e.g. 0,0,0,1,2,1,3,2,1.")
        parser.add_argument(
            "--sex", choices=("female", "male"), help="AUDIT-C only: applies the cut-off for women (3) or men (4)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            instrument = scoring.instrument(options["instrument"])
            result = scoring.score_answers(
                instrument, parse_answers(options["answers"]), thresholds=conf.thresholds(), sex=options["sex"]
            )
        except scoring.ScoringError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(result.as_dict()))

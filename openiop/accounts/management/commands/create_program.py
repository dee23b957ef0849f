from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email, validate_slug

from openiop.accounts import services


class Command(BaseCommand):
    help = "Create a program and its first director, and print the director's link to set a password."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help='the program\'s name, e.g. "Harbor Virtual IOP"')
        parser.add_argument("--slug", required=True, help="a short name: letters, digits, - and _")
        parser.add_argument("--director-username", required=True)
        parser.add_argument("--director-email", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            validate_slug(options["slug"])
            validate_email(options["director_email"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        try:
            issued = services.create_program(
                name=options["name"],
                slug=options["slug"],
                director_username=options["director_username"],
                director_email=options["director_email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except services.ServiceError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Created {options['name']} with director {options['director_username']}.")
        self.stdout.write(f"Their link to set a password (works once, for {settings.INVITATION_DAYS} days):")
        self.stdout.write(f"  {issued.url}")

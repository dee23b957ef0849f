"""Every string a patient, a family member or a person looking for care reads is translated into
Spanish, Brazilian Portuguese and Haitian Creole, and the committed .mo files match the .po files.

Which templates count: those matching PEOPLE_FACING (below), plus any template that says
`{# audience: public #}`, `{# audience: patient #}` or `{# audience: family #}`, plus every template
those include or extend. Re-run after merging other branches: their new strings are caught too."""

from __future__ import annotations

import fnmatch
import gettext
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

TEMPLATES = settings.BASE_DIR / "openiop" / "templates"
LOCALE = settings.BASE_DIR / "openiop" / "locale"
TRANSLATED = ("es", "pt_BR", "ht")

PEOPLE_FACING = [
    "base.html",
    "errors/*.html",
    "accounts/login.html",
    "accounts/logged_out.html",
    "accounts/locked_out.html",
    "accounts/password_*.html",
    "accounts/accept_invitation.html",
    "accounts/invitation_invalid.html",
    "intake/patient_today.html",
    "intake/family_*.html",
    "portal/*.html",
    # pages other branches are building for patients, families and the public
    "intake/self_referral*.html",
    "intake/referral_*.html",
    "referrals/*.html",
    "measures/patient_*.html",
    "measures/fill*.html",
    "measures/done.html",
    "measures/my_progress.html",
    "treatment/my_treatment.html",
    "treatment/check_in.html",
    "scheduling/my_sessions.html",
    "scheduling/calendar_settings.html",
    "careplans/patient_*.html",
    "rooms/*.html",
    "scheduling/patient_*.html",
]
STAFF_ONLY = [
    "portal/edit_page.html",
    "portal/staff_messages.html",
    # the intake coordinator's pages
    "referrals/board.html",
    "referrals/detail.html",
    "referrals/enroll.html",
    "referrals/new.html",
    "referrals/screen.html",
    # the clinician's room pages
    "rooms/new_session.html",
    "rooms/attendance.html",
    "rooms/correct.html",
]
AUDIENCE = re.compile(r"\{#\s*audience:\s*(public|patient|family)\s*#\}")
INCLUDE = re.compile(r"""\{%\s*(?:include|extends)\s+["']([^"']+)["']""")


def people_facing_templates() -> list[Path]:
    chosen: set[str] = set()
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        if any(fnmatch.fnmatch(name, pattern) for pattern in STAFF_ONLY):
            continue
        if any(fnmatch.fnmatch(name, pattern) for pattern in PEOPLE_FACING) or AUDIENCE.search(path.read_text()):
            chosen.add(name)
    todo = list(chosen)
    while todo:  # what they include or extend is people-facing too
        for name in INCLUDE.findall((TEMPLATES / todo.pop()).read_text()):
            if name not in chosen and (TEMPLATES / name).exists():
                chosen.add(name)
                todo.append(name)
    return sorted(TEMPLATES / name for name in chosen)


def _pot_entries(pot: str) -> Iterator[tuple[str | None, str, str | None]]:
    """(context, msgid, msgid_plural) from xgettext's output."""

    def unquote(lines: list[str]) -> str:
        return "".join(eval(line) for line in lines)  # noqa: S307  (xgettext's C-quoted strings)

    block: dict[str, list[str]] = {}
    key = ""
    for line in [*pot.splitlines(), ""]:
        if not line.strip():
            if "msgid" in block and unquote(block["msgid"]):
                yield (
                    unquote(block["msgctxt"]) if "msgctxt" in block else None,
                    unquote(block["msgid"]),
                    unquote(block["msgid_plural"]) if "msgid_plural" in block else None,
                )
            block, key = {}, ""
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            block[key].append(line)
        else:
            key, _, rest = line.partition(" ")
            block[key] = [rest]


def msgids_of(templates: list[Path]) -> set[tuple[str | None, str, str | None]]:
    with tempfile.TemporaryDirectory() as tmp:
        sources = []
        for i, path in enumerate(templates):
            source = Path(tmp) / f"t{i}.py"
            source.write_text(templatize(path.read_text(), origin=str(path)))
            sources.append(str(source))
        pot = subprocess.run(
            ["xgettext", "--language=Python", "--from-code=UTF-8", "--keyword=gettext_noop", "--keyword=pgettext:1c,2",
             "--keyword=npgettext:1c,2,3", "--keyword=ngettext:1,2", "--output=-", *sources],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    return set(_pot_entries(pot))


def catalog(language: str) -> dict[object, str]:
    with open(LOCALE / language / "LC_MESSAGES" / "django.mo", "rb") as handle:
        return gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]


def test_people_facing_templates_are_found() -> None:
    names = {p.relative_to(TEMPLATES).as_posix() for p in people_facing_templates()}
    assert {"base.html", "portal/today.html", "portal/program_page.html", "intake/family_patient.html"} <= names
    assert "_field.html" in names  # included by a people-facing page
    assert "portal/staff_messages.html" not in names and "audit/audit_log.html" not in names


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_people_facing_string_is_translated(language: str) -> None:
    entries = msgids_of(people_facing_templates())
    assert len(entries) > 100  # the extractor really read the templates
    translations = catalog(language)
    missing = []
    for context, msgid, plural in entries:
        key = f"{context}\x04{msgid}" if context else msgid
        found = translations.get((key, 0)) if plural else translations.get(key)
        if not found or (plural is None and found == msgid and len(msgid) > 3 and not msgid.isupper()):
            missing.append(msgid)
    assert not missing, f"{len(missing)} strings lack a {language} translation: {sorted(missing)[:20]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_committed_mo_matches_the_po(language: str, tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(LOCALE / language / "LC_MESSAGES" / "django.po")],
        check=True,
    )
    with open(compiled, "rb") as handle:
        fresh = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    assert fresh == catalog(language), "Run `manage.py compilemessages` and commit the .mo files"

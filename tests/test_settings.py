"""Settings come from the environment; bad values fail at start naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = tempfile.mkdtemp(prefix="openiop-settings-")


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENIOP_", "DJANGO_")) and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "OPENIOP_VAR_DIR": env.pop("OPENIOP_VAR_DIR", SCRATCH), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "OPENIOP_PRODUCTION": "1",
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "iop.example.org",
    "EMAIL_HOST": "smtp.example.org",
}


def test_check_deploy_with_production_settings_reports_nothing() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OPENIOP_PRODUCTION": "1", "ALLOWED_HOSTS": "x.org", "EMAIL_HOST": "m"}, "SECRET_KEY is required"),
        ({**PRODUCTION, "SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 characters"),
        ({**PRODUCTION, "EMAIL_HOST": ""}, "EMAIL_HOST is required"),
        ({**PRODUCTION, "OPENIOP_DEMO_MODE": "1"}, "OPENIOP_DEMO_MODE cannot be on"),
        ({**PRODUCTION, "DEBUG": "1"}, "DEBUG cannot be on"),
        ({"OPENIOP_DEMO_MODE": "perhaps"}, "OPENIOP_DEMO_MODE must be one of"),
        ({"OPENIOP_IDLE_LOGOUT_MINUTES": "fifteen"}, "OPENIOP_IDLE_LOGOUT_MINUTES must be a whole number"),
        ({"OPENIOP_IDLE_LOGOUT_MINUTES": "0"}, "OPENIOP_IDLE_LOGOUT_MINUTES must be at least 1"),
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL must point at SQLite"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with"),
        ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS must list at least one value"),
        ({"EMAIL_HOST": "smtp.example.org", "EMAIL_PORT": "99999"}, "EMAIL_PORT must be at most 65535"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE must be an IANA time zone"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be DEBUG, INFO"),
    ],
)
def test_bad_values_fail_at_start_naming_the_variable(env: dict[str, str], message: str) -> None:
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_outside_production_a_secret_key_is_generated_once(tmp_path: Path) -> None:
    first = run_manage("check", OPENIOP_VAR_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"
    run_manage("check", OPENIOP_VAR_DIR=str(tmp_path))
    assert (tmp_path / "secret_key").read_text() == key


def test_default_database_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    result = run_manage(
        "shell",
        "-c",
        "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode'); "
        "print(connection.vendor, c.fetchone()[0], connection.settings_dict['NAME'])",
        OPENIOP_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["sqlite", "wal", str(tmp_path / "openiop.sqlite3")]


def test_seed_demo_refuses_to_run_in_production() -> None:
    result = run_manage("seed_demo", **PRODUCTION, DATABASE_URL=f"sqlite:///{SCRATCH}/prod.sqlite3")
    assert result.returncode != 0
    assert "does not run in production mode" in result.stderr

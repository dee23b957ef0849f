"""AttendanceTally: attendance counted per program and session start time, kept by triggers.

The triggers run inside the transaction of the write that fires them, so the tally can never disagree with
the Attendance and Session rows it counts, whichever code writes them (services, bulk_create, the admin, raw
SQL). They count an attendance as expected unless it is entered in error, and as present when it was attended,
late or partial (openiop.reports.metrics.PRESENT). Existing attendance is counted once, here."""

import django.db.models.deletion
from django.db import migrations, models

PRESENT = "CASE WHEN {row}.status IN ('attended', 'late', 'partial') THEN 1 ELSE 0 END"
EXPECTED = "CASE WHEN {row}.status <> 'entered-in-error' THEN 1 ELSE 0 END"

# Counts added to a start time: one row, created the first time.
UPSERT = """
INSERT INTO rooms_attendancetally (program_id, starts_at, present, expected)
SELECT {program}, {starts_at}, {present}, {expected} FROM {source}
ON CONFLICT (program_id, starts_at) DO UPDATE
SET present = rooms_attendancetally.present + excluded.present,
    expected = rooms_attendancetally.expected + excluded.expected
"""


def add_attendance(row: str) -> str:
    """Add one attendance row (NEW or OLD) to the tally of its session's start."""
    return UPSERT.format(
        program="s.program_id",
        starts_at="s.starts_at",
        present=PRESENT.format(row=row),
        expected=EXPECTED.format(row=row),
        source=f"scheduling_session s WHERE s.id = {row}.session_id",
    )


def remove_attendance(row: str) -> str:
    return f"""
UPDATE rooms_attendancetally
SET present = present - {PRESENT.format(row=row)}, expected = expected - {EXPECTED.format(row=row)}
WHERE program_id = (SELECT program_id FROM scheduling_session WHERE id = {row}.session_id)
  AND starts_at = (SELECT starts_at FROM scheduling_session WHERE id = {row}.session_id)
"""


def add_session(row: str) -> str:
    """Add every attendance of a session (NEW) to the tally of its start."""
    return UPSERT.format(
        program=f"{row}.program_id",
        starts_at=f"{row}.starts_at",
        present=f"COALESCE(SUM({PRESENT.format(row='a')}), 0)",
        expected=f"COALESCE(SUM({EXPECTED.format(row='a')}), 0)",
        source=f"rooms_attendance a WHERE a.session_id = {row}.id",
    )


def remove_session(row: str) -> str:
    return f"""
UPDATE rooms_attendancetally
SET present = present - (SELECT COALESCE(SUM({PRESENT.format(row="a")}), 0)
                         FROM rooms_attendance a WHERE a.session_id = {row}.id),
    expected = expected - (SELECT COALESCE(SUM({EXPECTED.format(row="a")}), 0)
                           FROM rooms_attendance a WHERE a.session_id = {row}.id)
WHERE program_id = {row}.program_id AND starts_at = {row}.starts_at
"""


BACKFILL = f"""
INSERT INTO rooms_attendancetally (program_id, starts_at, present, expected)
SELECT s.program_id, s.starts_at, SUM({PRESENT.format(row="a")}), SUM({EXPECTED.format(row="a")})
FROM rooms_attendance a JOIN scheduling_session s ON s.id = a.session_id
GROUP BY s.program_id, s.starts_at
"""

SQLITE = [
    f"""CREATE TRIGGER rooms_attendance_tally_insert AFTER INSERT ON rooms_attendance
BEGIN {add_attendance("NEW")}; END""",
    f"""CREATE TRIGGER rooms_attendance_tally_delete AFTER DELETE ON rooms_attendance
BEGIN {remove_attendance("OLD")}; END""",
    f"""CREATE TRIGGER rooms_attendance_tally_update AFTER UPDATE OF status, session_id ON rooms_attendance
WHEN OLD.status IS NOT NEW.status OR OLD.session_id IS NOT NEW.session_id
BEGIN {remove_attendance("OLD")}; {add_attendance("NEW")}; END""",
    f"""CREATE TRIGGER rooms_session_tally_move AFTER UPDATE OF starts_at, program_id ON scheduling_session
WHEN OLD.starts_at IS NOT NEW.starts_at OR OLD.program_id IS NOT NEW.program_id
BEGIN {remove_session("OLD")}; {add_session("NEW")}; END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS rooms_attendance_tally_insert",
    "DROP TRIGGER IF EXISTS rooms_attendance_tally_delete",
    "DROP TRIGGER IF EXISTS rooms_attendance_tally_update",
    "DROP TRIGGER IF EXISTS rooms_session_tally_move",
]

POSTGRESQL = [
    f"""CREATE FUNCTION rooms_attendance_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status IS NOT DISTINCT FROM NEW.status AND OLD.session_id = NEW.session_id THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {remove_attendance("OLD")}; END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN {add_attendance("NEW")}; END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER rooms_attendance_tally AFTER INSERT OR DELETE OR UPDATE OF status, session_id
ON rooms_attendance FOR EACH ROW EXECUTE FUNCTION rooms_attendance_tally()""",
    f"""CREATE FUNCTION rooms_session_tally_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {remove_session("OLD")};
  {add_session("NEW")};
  RETURN NULL;
END $$""",
    """CREATE TRIGGER rooms_session_tally_move AFTER UPDATE OF starts_at, program_id ON scheduling_session
FOR EACH ROW WHEN (OLD.starts_at IS DISTINCT FROM NEW.starts_at OR OLD.program_id IS DISTINCT FROM NEW.program_id)
EXECUTE FUNCTION rooms_session_tally_move()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS rooms_attendance_tally ON rooms_attendance",
    "DROP FUNCTION IF EXISTS rooms_attendance_tally()",
    "DROP TRIGGER IF EXISTS rooms_session_tally_move ON scheduling_session",
    "DROP FUNCTION IF EXISTS rooms_session_tally_move()",
]


def _run(schema_editor, by_vendor: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in by_vendor:
        raise RuntimeError(f"AttendanceTally has triggers for SQLite and PostgreSQL only, not {vendor}")
    for statement in by_vendor[vendor]:
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor) -> None:
    _run(schema_editor, {"sqlite": [*SQLITE, BACKFILL], "postgresql": [*POSTGRESQL, BACKFILL]})


def drop_triggers(apps, schema_editor) -> None:
    _run(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP})


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("rooms", "0001_initial"),
        ("scheduling", "0002_sessions"),
    ]

    operations = [
        migrations.CreateModel(
            name="AttendanceTally",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("starts_at", models.DateTimeField()),
                ("present", models.IntegerField(default=0)),
                ("expected", models.IntegerField(default=0)),
                (
                    "program",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.program"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("program", "starts_at"), name="one_tally_per_start")
                ],
            },
        ),
        migrations.AddIndex(
            model_name="attendance",
            index=models.Index(
                fields=["session", "status", "patient", "seconds_present"], name="attendance_session_status"
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]

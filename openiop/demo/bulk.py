"""Fast inserts for the demo loader: a million rows without a model instance each.

`bulk_create` builds a model instance per row and compiles SQL per batch, which costs more than making the
data. These helpers write plain tuples instead: PostgreSQL through COPY, SQLite through one `executemany`
per batch. They run inside the caller's transaction. The caller gives each value ready for the column:
JSON fields as JSON text, datetimes as aware datetimes (converted here for SQLite), foreign keys as ids.
Nothing is validated here: use it only for data the program made itself."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models


def first_free_id(model: type[models.Model]) -> int:
    """The first of a run of ids the caller may use for new `model` rows until the transaction ends.

    On PostgreSQL the table is locked against other writers (reads go on) until commit; SQLite has one writer
    at a time anyway. Call `ids_used(model)` after inserting so the database's own numbering goes on past them."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cursor.execute(f"SELECT MAX({_column(model, 'pk')}) FROM {table}")  # noqa: S608
        row = cursor.fetchone()
    return int(row[0] or 0) + 1 if row else 1


def ids_used(model: type[models.Model]) -> None:
    """Move the table's id sequence past rows inserted with explicit ids (SQLite's AUTOINCREMENT does it itself)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def analyze(*tables: type[models.Model]) -> None:
    """Refresh PostgreSQL's statistics after a bulk load, so the first pages after the seed get good plans
    (autovacuum would do it later). SQLite keeps none unless asked, and needs none here."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def db_datetime(value: datetime) -> Any:
    """An aware datetime in the form `insert` passes to the database for a DateTimeField."""
    if connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)


def insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert `rows` (tuples in the order of `fields`, model field names) into `model`'s table."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(_column(model, name) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor: COPY is an order of magnitude faster than INSERT
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(rows))  # noqa: S608


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, f"{model.__name__}.{name} is not a column"
    return connection.ops.quote_name(field.column)

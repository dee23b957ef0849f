"""Who is acting and from where, for the current request or task.

Set by AuditContextMiddleware (and by consumers and commands), read by
openiop.audit.services.record, so services need not pass the request around."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    client_address: str | None = None


NO_CONTEXT = AuditContext()
current: ContextVar[AuditContext | None] = ContextVar("openiop_audit_context", default=None)


def get() -> AuditContext:
    return current.get() or NO_CONTEXT

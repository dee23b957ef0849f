from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from openiop.audit.context import AuditContext, current


def client_address(request: HttpRequest) -> str | None:
    """Who is on the other end. Behind a trusted proxy, the last X-Forwarded-For
    hop is the one that proxy saw; earlier hops are whatever the client sent."""
    address = request.META.get("REMOTE_ADDR") or None
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        address = forwarded or address
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return None
    # An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d; store the
    # IPv4 form, which every database prints back the same way (the hash needs that).
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return str(parsed)


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current.set(AuditContext(client_address=client_address(request)))
        try:
            return self.get_response(request)
        finally:
            current.reset(token)

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


class ClearErrorPagesMiddleware:
    """Give bare error responses (405 from require_http_methods, for one) a page
    that says what went wrong, in the site's look, instead of an empty body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            response.content = render_to_string(
                "errors/405.html", {"allowed": response.get("Allow", "")}, request=request
            ).encode()
            response["Content-Type"] = "text/html; charset=utf-8"
        return response

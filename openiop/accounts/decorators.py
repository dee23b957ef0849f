from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from openiop.accounts.models import Role, User

View = Callable[..., HttpResponse]


def role_required(*roles: Role) -> Callable[[View], View]:
    """Let only people with one of `roles` in; send the signed-out to sign in.

    Everyone else gets the same 404 as for a page that does not exist: a page
    for another role is "not yours"."""
    allowed = frozenset(roles)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if getattr(request.user, "role", None) not in allowed:
                raise Http404
            return view(request, *args, **kwargs)

        wrapper.openiop_roles = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


STAFF = (Role.DIRECTOR, Role.INTAKE, Role.CLINICIAN)


def acting_person(request: HttpRequest) -> User:
    """The signed-in person, typed; views behind role_required only."""
    user = request.user
    if not isinstance(user, User):
        raise Http404
    return user

"""Recording access to personal data (views and exports) in the ``AccessLog``."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

from ..models.audit import AccessLog


def log_access(
    *,
    request: HttpRequest | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
    kind: str,
    what: str,
    object_id: str = "",
    filters: dict | None = None,
    row_count: int | None = None,
) -> AccessLog:
    """Append one row to the access log (who, when, what, which filters, how many rows)."""
    if request is not None and user is None:
        user = request.user
    return AccessLog.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        kind=kind,
        what=what,
        object_id=str(object_id),
        filters=filters or {},
        row_count=row_count,
        path=request.get_full_path()[:500] if request is not None else "",
    )

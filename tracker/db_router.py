"""Send the reads of reports and exports to a PostgreSQL replica, everything else to the primary.

A read goes to the ``replica`` alias only when all of these hold:

- ``DATABASE_REPLICA_URL`` is set (settings then define the ``replica`` alias);
- the code asked for it by running inside :func:`use_replica` — report and export views wrap their
  reads in it, because a report may be a few seconds behind the primary but a clerk's own form may
  not;
- nothing has been written yet in this request (or this ``use_replica`` block outside a request):
  after the first write every read stays on the primary, so a page never shows data older than what
  it just saved.

:class:`PinToPrimaryMiddleware` starts each request unpinned. Writes always go to the primary, and
migrations run on the primary only (the replica gets them by replication).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

PRIMARY = "default"
REPLICA = "replica"

_replica_wanted: ContextVar[bool] = ContextVar("replica_wanted", default=False)
_pinned_to_primary: ContextVar[bool] = ContextVar("pinned_to_primary", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def use_replica() -> Iterator[None]:
    """Read from the replica (when there is one) inside this block, until the first write."""
    wanted = _replica_wanted.set(True)
    try:
        yield
    finally:
        _replica_wanted.reset(wanted)


def reads_from_replica(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run a report or export view inside :func:`use_replica` (put it under the access checks,
    which read the user from the primary). A streamed export binds its rows' alias in the view
    (``exports.personal_data_response``): the rows are read after the view has returned."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        with use_replica():
            return view(request, *args, **kwargs)

    return wrapped


@contextmanager
def unit_of_work() -> Iterator[None]:
    """A request, or a job outside one: it starts unpinned and forgets its pin when it ends."""
    token = _pinned_to_primary.set(False)
    try:
        yield
    finally:
        _pinned_to_primary.reset(token)


def pin_to_primary() -> None:
    """From now on (in this request or block) read from the primary too."""
    _pinned_to_primary.set(True)


def reading_from_replica() -> bool:
    return _replica_wanted.get() and not _pinned_to_primary.get() and replica_configured()


class PrimaryReplicaRouter:
    """Reads inside :func:`use_replica` go to the replica until a write; all writes to the primary."""

    def db_for_read(self, model: type[Model], **hints: object) -> str:
        return REPLICA if reading_from_replica() else PRIMARY

    def db_for_write(self, model: type[Model], **hints: object) -> str:
        pin_to_primary()
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: object) -> bool:
        # Both aliases hold the same data.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool:
        return db == PRIMARY


class PinToPrimaryMiddleware:
    """Each request starts unpinned; a write during the request pins it to the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with unit_of_work():
            return self.get_response(request)

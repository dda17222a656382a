"""The case workflow: opening a household's case, moving it between statuses, extending status.

Every status change goes through :func:`case_transition`, which checks the transition table in
``enums.TRANSITIONS``, sets the dates that the new status implies, and appends a
``StatusChange`` row, all in one transaction on a locked row. Nothing else writes
``Household.status``.
"""

import calendar
import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from ..enums import REASON_REQUIRED, RELEASED_STATUSES, TRANSITIONS, CaseStatus, HistoryKind
from ..models import (
    Household,
    PlacementStatus,
    Program,
    QuotaPlacement,
    StatusChange,
)
from .benefits import recalculate_household
from .bulk import create_objects, create_with_history
from .quota_ledger import fit_placement_to_members, members_arriving, release_places


class TransitionError(ValidationError):
    """A status change that the rules do not allow; the message is meant for the user."""


#: Statuses in which a granted status is in force and can be extended.
STATUS_IN_FORCE = frozenset(
    {CaseStatus.GRANTED, CaseStatus.IN_TRANSIT, CaseStatus.ARRIVED, CaseStatus.SETTLED}
)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def allowed_transitions(status: str) -> list[CaseStatus]:
    """The statuses a case in ``status`` may move to, in the order of the status list."""
    targets = TRANSITIONS.get(status, frozenset())
    return [s for s in CaseStatus if s in targets]


def next_reference(program: Program, year: int) -> str:
    """The next free reference for a program and year, e.g. ``KZ-2021-00035``.

    Callers hold a lock on the program row, so two clerks never get the same number.
    """
    prefix = f"{program.reference_prefix}-{year}-"
    last = (
        Household.objects.filter(program=program, reference__startswith=prefix)
        .aggregate(last=Max("reference"))
        .get("last")
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:05d}"


@transaction.atomic
def open_case(
    *, household: Household, by: AbstractBaseUser | None, on: dt.date | None = None
) -> Household:
    """Save a new household as a draft case with its reference and first history row.

    ``household`` is an unsaved instance with its fields filled in (validated by the caller).
    """
    if household.pk is not None:
        raise ValueError("open_case() takes a new household")
    on = on or timezone.localdate()
    Program.objects.select_for_update().get(pk=household.program_id)
    if not household.reference:
        household.reference = next_reference(household.program, on.year)
    household.status = CaseStatus.DRAFT
    household.save()
    StatusChange.objects.create(
        household=household,
        kind=HistoryKind.CREATED,
        from_status="",
        to_status=CaseStatus.DRAFT,
        effective_on=on,
        changed_by=by,
    )
    return household


def _set_dates(household: Household, to: str, on: dt.date) -> None:
    if to == CaseStatus.APPLIED:
        household.applied_on = on
    elif to == CaseStatus.GRANTED:
        household.decided_on = on
        household.status_granted_on = on
        household.status_expires_on = add_months(on, household.program.status_validity_months)
    elif to == CaseStatus.REFUSED:
        household.decided_on = on
    elif to == CaseStatus.ARRIVED:
        household.arrived_on = on
    elif to == CaseStatus.CITIZENSHIP:
        household.citizenship_on = on


@transaction.atomic
def case_transition(
    *,
    household: Household,
    to: str,
    by: AbstractBaseUser | None,
    reason: str = "",
    on: dt.date | None = None,
) -> StatusChange:
    """Move a case to status ``to`` as of ``on`` (default today), recorded as done by ``by``.

    Locks the household row, so two officers acting at once are serialised and the second
    sees the first one's status. Raises :class:`TransitionError` — and changes nothing — when
    the move is not in the table, when a reason is required and missing, or when the date
    would put the case's dates out of order.
    """
    locked = Household.objects.select_for_update().select_related("program").get(pk=household.pk)
    reason = reason.strip()
    on = on or timezone.localdate()
    if to not in TRANSITIONS.get(locked.status, frozenset()):
        raise TransitionError(
            _("A case cannot go from “%(from)s” to “%(to)s”.")
            % {"from": CaseStatus(locked.status).label, "to": _status_label(to)},
            code="transition_not_allowed",
        )
    if to in REASON_REQUIRED and not reason:
        raise TransitionError(
            _("Give a reason for “%(to)s”.") % {"to": CaseStatus(to).label}, code="reason_required"
        )
    if on > timezone.localdate():
        raise TransitionError(_("A status change cannot be dated in the future."), code="future")
    if to == CaseStatus.APPLIED and locked.status_granted_on:
        # arrived -> applied is for families who came without status, not to re-apply.
        raise TransitionError(
            _("This family already has status; it does not apply again."), code="has_status"
        )
    from_status = locked.status
    locked.status = to
    _set_dates(locked, to, on)
    try:
        locked.full_clean(exclude=["reference"])
    except ValidationError as error:
        raise TransitionError(" ".join(error.messages), code="dates") from error
    locked.save()
    change = StatusChange.objects.create(
        household=locked,
        kind=HistoryKind.TRANSITION,
        from_status=from_status,
        to_status=to,
        effective_on=on,
        changed_by=by,
        reason=reason,
    )
    if to in RELEASED_STATUSES:
        # A withdrawn, refused or departed family no longer holds its quota places.
        release_places(household=locked, by=by, reason=f"{CaseStatus(to).label}: {reason}")
    # The caller's instance reflects the new state too.
    household.refresh_from_db()
    return change


def _status_label(value: str) -> str:
    try:
        return str(CaseStatus(value).label)
    except ValueError:
        return value


@transaction.atomic
def extend_status(
    *,
    household: Household,
    months: int,
    by: AbstractBaseUser | None,
    reason: str,
    on: dt.date | None = None,
) -> StatusChange:
    """Extend a granted status by ``months``, within the program's limits (KZ: once, ≤ 6 months).

    Raises :class:`TransitionError` and changes nothing when the program allows no (further)
    extension, the length is over its limit, the status has no expiry date or no reason is given.
    """
    locked = Household.objects.select_for_update().select_related("program").get(pk=household.pk)
    program = locked.program
    reason = reason.strip()
    if not reason:
        raise TransitionError(_("Give a reason for the extension."), code="reason_required")
    if locked.status_expires_on is None or locked.status not in STATUS_IN_FORCE:
        raise TransitionError(_("This case has no status in force to extend."), code="no_status")
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise TransitionError(_("An extension cannot be dated in the future."), code="future")
    if locked.extensions_used >= program.max_extensions:
        raise TransitionError(
            _("%(program)s allows %(count)d extension(s); none is left for this case.")
            % {"program": program.name, "count": program.max_extensions},
            code="no_extension_left",
        )
    if not 1 <= months <= program.extension_max_months:
        raise TransitionError(
            _("An extension is 1 to %(max)d months.") % {"max": program.extension_max_months},
            code="extension_too_long",
        )
    locked.status_expires_on = add_months(locked.status_expires_on, months)
    locked.extensions_used += 1
    locked.save(update_fields=["status_expires_on", "extensions_used", "updated_at"])
    change = StatusChange.objects.create(
        household=locked,
        kind=HistoryKind.EXTENSION,
        from_status=locked.status,
        to_status=locked.status,
        effective_on=on,
        changed_by=by,
        reason=reason,
    )
    household.refresh_from_db()
    return change


@transaction.atomic
def open_cases(
    *, households: list[Household], by: AbstractBaseUser | None, on: dt.date | None = None
) -> list[Household]:
    """The bulk form of :func:`open_case` (for imports): the same references, draft status and
    first history row for many new households of one or more programs, in a few queries."""
    on = on or timezone.localdate()
    if any(h.pk is not None for h in households):
        raise ValueError("open_cases() takes new households")
    program_ids = sorted({h.program_id for h in households})
    programs = {p.pk: p for p in Program.objects.select_for_update().filter(pk__in=program_ids)}
    numbers: dict[int, int] = {}
    for household in households:
        household.status = CaseStatus.DRAFT
        if household.reference:
            continue
        program = programs[household.program_id]
        if program.pk not in numbers:
            numbers[program.pk] = int(next_reference(program, on.year).rsplit("-", 1)[1])
        household.reference = f"{program.reference_prefix}-{on.year}-{numbers[program.pk]:05d}"
        numbers[program.pk] += 1
    create_with_history(households, user=by)
    create_objects(
        [
            StatusChange(
                household=household,
                kind=HistoryKind.CREATED,
                from_status="",
                to_status=CaseStatus.DRAFT,
                effective_on=on,
                changed_by=by,
            )
            for household in households
        ]
    )
    return households


@dataclass
class MembersChanged:
    """What :func:`members_changed` did to one household."""

    #: The placement released because members left or died, and the smaller one that replaced
    #: it (``None`` when no place remains).
    released: QuotaPlacement | None = None
    placement: QuotaPlacement | None = None
    #: Members arriving beyond the places the household holds, after members joined.
    places_short: int = 0

    @property
    def places_given_back(self) -> int:
        if self.released is None:
            return 0
        return self.released.places - (self.placement.places if self.placement else 0)


@transaction.atomic
def members_changed(
    *,
    household: Household,
    by: AbstractBaseUser | None,
    cause: str,
    left: int = 0,
    joined: int = 0,
) -> MembersChanged:
    """After members changed: planned benefit payments follow (paid ones never); the places of
    the ``left`` members who have just left or died go back to the quota. Places are not added
    for the ``joined`` members (new, or back from left): that needs a new placement, which
    checks the quota; how many places are then missing is returned so the officer can be told.
    """
    recalculate_household(household=household, by=by, cause=cause)
    done = MembersChanged()
    fitted = fit_placement_to_members(household=household, by=by, left=left)
    if fitted is not None:
        done.released, done.placement = fitted
        return done
    if joined > 0:
        held = household.quota_placements.filter(status=PlacementStatus.RESERVED).first()
        if held is not None:
            done.placement = held
            done.places_short = max(0, members_arriving(household) - held.places)
    return done

"""The quota ledger: placing households in a regional quota and releasing their places.

Placements of one quota are serialised on the quota's row (``select_for_update``), so two
officers placing families at the same moment cannot both take the last places: at all times
``reserved + free = quota`` with ``free >= 0`` unless a permitted user overrode it with a reason.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from ..enums import RELEASED_STATUSES, CaseStatus, RegionLevel
from ..models import Household, PlacementStatus, QuotaPlacement, Region, RegionQuota
from ..selectors.quotas import GONE


class QuotaError(ValidationError):
    """A placement or release the rules do not allow; the message is meant for the user."""


def members_arriving(household: Household) -> int:
    """The household's members who take up a place (not those who left or died)."""
    return household.members.exclude(member_status__in=GONE).count()


def reserved_places(quota: RegionQuota) -> int:
    """Places held by reserved placements in ``quota``."""
    total = quota.placements.filter(status=PlacementStatus.RESERVED).aggregate(n=Sum("places"))
    return total["n"] or 0


def quota_regions(destination: Region) -> list[int]:
    """The regions whose quota takes a family headed for ``destination``: the region itself and,
    for a district, its oblast (never the whole country above an oblast or a city)."""
    regions = [destination.pk]
    if destination.parent_id and destination.level == RegionLevel.DISTRICT:
        regions.append(destination.parent_id)
    return regions


def quota_for(household: Household) -> RegionQuota | None:
    """The quota matching the household's destination oblast and quota year, if any."""
    if not (household.quota_year and household.destination_region_id):
        return None
    regions = quota_regions(household.destination_region)
    return (
        RegionQuota.objects.filter(
            program_id=household.program_id, year=household.quota_year, region_id__in=regions
        )
        # The region's own quota first (a district's), then its oblast's.
        .order_by(Case(When(region_id=regions[0], then=Value(0)), default=Value(1)))
        .first()
    )


@transaction.atomic
def place_in_quota(
    *,
    household: Household,
    by: AbstractBaseUser | None,
    quota: RegionQuota | None = None,
    places: int | None = None,
    override_reason: str = "",
) -> QuotaPlacement:
    """Reserve places for ``household`` in ``quota`` (default: its destination and quota year).

    ``places`` defaults to the members arriving. When fewer places are free, the placement is
    refused unless ``by`` has the ``override_quota`` permission and gives ``override_reason``;
    the override is recorded on the placement. Sets the household's quota year (and destination
    if it has none). Raises :class:`QuotaError` and changes nothing when refused.
    """
    locked = Household.objects.select_for_update().get(pk=household.pk)
    if locked.status in RELEASED_STATUSES or locked.status == CaseStatus.CLOSED:
        raise QuotaError(_("A closed, refused or withdrawn case cannot be placed in a quota."))
    quota = quota or quota_for(locked)
    if quota is None:
        raise QuotaError(
            _("There is no quota for this household's destination region and quota year.")
        )
    quota = (
        RegionQuota.objects.select_for_update(of=("self",))
        .select_related("region")
        .get(pk=quota.pk)
    )
    if quota.program_id != locked.program_id:
        raise QuotaError(_("The quota belongs to another program."))
    destination = locked.destination_region
    if destination is not None and quota.region_id not in quota_regions(destination):
        # The ledger and the fulfilment reports count the family where it is headed.
        raise QuotaError(
            _(
                "%(ref)s is headed for %(destination)s and this quota is %(region)s's: choose "
                "the quota of %(destination)s, or change the household's destination first."
            )
            % {"ref": locked.reference, "destination": destination, "region": quota.region},
            code="other_region",
        )
    current = QuotaPlacement.objects.filter(
        household=locked, status=PlacementStatus.RESERVED
    ).first()
    if current is not None:
        raise QuotaError(
            _("%(ref)s already holds %(places)d place(s) in %(quota)s; release them first.")
            % {"ref": locked.reference, "places": current.places, "quota": current.quota}
        )
    places = members_arriving(locked) if places is None else places
    if places < 1:
        raise QuotaError(_("The household has no members arriving to place."))
    free = quota.places - reserved_places(quota)
    override_reason = override_reason.strip()
    over = places > free
    if over:
        if not override_reason:
            raise QuotaError(
                _(
                    "Only %(free)d place(s) are free in %(quota)s and %(places)d are needed. "
                    "Someone allowed to override the quota can place the family with a reason."
                )
                % {"free": max(free, 0), "quota": quota, "places": places},
                code="over_quota",
            )
        if by is None or not by.has_perm("resettlement.override_quota"):
            raise QuotaError(
                _("You are not allowed to place a household over the quota."), code="no_override"
            )
    placement = QuotaPlacement.objects.create(
        household=locked,
        quota=quota,
        places=places,
        over_quota=over,
        override_reason=override_reason if over else "",
        placed_by=by,
    )
    updates = []
    if locked.quota_year != quota.year:
        locked.quota_year = quota.year
        updates.append("quota_year")
    if not locked.destination_region_id:
        locked.destination_region = quota.region
        updates.append("destination_region")
    if updates:
        locked.save(update_fields=[*updates, "updated_at"])
        household.refresh_from_db()
    return placement


@transaction.atomic
def fit_placement_to_members(
    *, household: Household, by: AbstractBaseUser | None, left: int
) -> tuple[QuotaPlacement, QuotaPlacement | None] | None:
    """Give back the places of ``left`` members who have just left or died.

    The household's reserved placement is released (with the reason) and, if places remain, a
    placement of that many reserved in the same quota, so the ledger shows both. At most
    ``left`` places go back, and never so many that fewer places remain than members arriving:
    places an officer reserved beyond the members (some arrive later) stay. Returns
    ``(released, new)`` — ``new`` is ``None`` when no place remains — or ``None`` when nothing
    changed. Places are never added here: more members need a new placement (a quota check).
    """
    if left <= 0:
        return None
    locked = Household.objects.select_for_update().get(pk=household.pk)
    placement = (
        # Only the placement's row: placing another family locks the quota's row, and giving
        # places back never needs to wait for it.
        QuotaPlacement.objects.select_for_update(of=("self",))
        .filter(household=locked, status=PlacementStatus.RESERVED)
        .select_related("quota")
        .first()
    )
    if placement is None:
        return None
    arriving = members_arriving(locked)
    given_back = min(left, placement.places - arriving)
    if given_back <= 0:
        return None
    remaining = placement.places - given_back
    _release(
        placement,
        by=by,
        reason=_("Members left or died: %(before)d place(s) held, %(after)d kept.")
        % {"before": placement.places, "after": remaining},
    )
    if remaining == 0:
        return placement, None
    quota = placement.quota
    if placement.over_quota:
        # Whether it still is over depends on the other placements: hold them off meanwhile.
        lock_quota(quota)
    smaller = QuotaPlacement.objects.create(
        household=locked,
        quota=quota,
        places=remaining,
        # Over the quota only while it still is; the override stays recorded on both rows.
        over_quota=placement.over_quota and reserved_places(quota) + remaining > quota.places,
        override_reason=placement.override_reason,
        # The reservation is still the decision of whoever placed the family.
        placed_by=placement.placed_by,
    )
    return placement, smaller


@transaction.atomic
def release_places(
    *, household: Household, by: AbstractBaseUser | None, reason: str
) -> QuotaPlacement | None:
    """Release the places the household holds (withdrawal, return abroad, refusal, correction).

    Returns the released placement, or ``None`` when the household held none.
    """
    reason = reason.strip()
    if not reason:
        raise QuotaError(_("Give a reason for releasing the places."))
    placement = (
        QuotaPlacement.objects.select_for_update()
        .filter(household_id=household.pk, status=PlacementStatus.RESERVED)
        .first()
    )
    if placement is None:
        return None
    return _release(placement, by=by, reason=reason)


def _release(
    placement: QuotaPlacement, *, by: AbstractBaseUser | None, reason: str
) -> QuotaPlacement:
    """Mark a locked reserved placement released, by whom, when and why."""
    placement.status = PlacementStatus.RELEASED
    placement.released_by = by
    placement.released_at = timezone.now()
    placement.release_reason = reason[:300]
    placement.save(update_fields=["status", "released_by", "released_at", "release_reason"])
    return placement


def lock_quota(quota: RegionQuota) -> None:
    """Hold the quota's row until the transaction ends: placements in it wait meanwhile
    (:func:`place_in_quota` locks the same row). A no-op on SQLite, which serialises writers."""
    RegionQuota.objects.select_for_update().filter(pk=quota.pk).exists()

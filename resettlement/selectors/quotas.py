"""How full each regional quota is: places reserved in the quota ledger (``QuotaPlacement``)."""

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ..enums import RELEASED_STATUSES, MemberStatus
from ..models import Person, PlacementStatus, QuotaPlacement, RegionQuota

#: Members who no longer take up a place.
GONE = (MemberStatus.LEFT, MemberStatus.DECEASED)


def quota_people(quota_ref: str = "") -> QuerySet[Person]:
    """People placed under the quota that ``OuterRef`` points at (or every quota's people)."""
    prefix = f"{quota_ref}__" if quota_ref else ""
    return Person.objects.filter(
        household__program=OuterRef(f"{prefix}program"),
        household__destination_region=OuterRef(f"{prefix}region"),
        household__quota_year=OuterRef(f"{prefix}year"),
    ).exclude(Q(household__status__in=RELEASED_STATUSES) | Q(member_status__in=GONE))


def reserved_places_subquery(quota_ref: str = "pk") -> Subquery:
    """Places held by reserved placements in the quota that ``OuterRef(quota_ref)`` points at."""
    reserved = (
        QuotaPlacement.objects.filter(quota=OuterRef(quota_ref), status=PlacementStatus.RESERVED)
        .order_by()
        .values("quota")
        .annotate(n=Sum("places"))
        .values("n")
    )
    return Coalesce(Subquery(reserved, output_field=IntegerField()), Value(0))


def with_usage(quotas: QuerySet[RegionQuota]) -> QuerySet[RegionQuota]:
    """Annotate ``places_used`` (places reserved in the quota ledger) and ``places_remaining``.

    ``places_used + places_remaining = places`` always; remaining is negative only after an
    override or a downward revision.
    """
    return quotas.annotate(places_used=reserved_places_subquery()).annotate(
        places_remaining=F("places") - F("places_used")
    )

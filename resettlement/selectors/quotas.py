"""How full each regional quota is."""

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from ..enums import RELEASED_STATUSES, MemberStatus
from ..models import Person, RegionQuota

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


def with_usage(quotas: QuerySet[RegionQuota]) -> QuerySet[RegionQuota]:
    """Annotate ``places_used`` (people of households placed in the quota) and ``places_remaining``."""
    used = (
        quota_people().order_by().values("household__program").annotate(n=Count("pk")).values("n")
    )
    return quotas.annotate(
        places_used=Coalesce(Subquery(used, output_field=IntegerField()), Value(0)),
    ).annotate(places_remaining=F("places") - F("places_used"))

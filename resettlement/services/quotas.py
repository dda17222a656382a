"""Setting and revising regional quotas; every change leaves a ``QuotaRevision``."""

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import QuotaRevision, RegionQuota


@transaction.atomic
def revise_quota(
    *,
    quota: RegionQuota,
    places: int,
    effective_on: dt.date,
    reason: str,
    by: AbstractBaseUser | None,
) -> QuotaRevision:
    """Set a quota's places, recording from what, when and why. A new quota is saved first."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give the reason or legal act for the quota change."))
    if places < 0:
        raise ValidationError(_("A quota cannot be negative."))
    if quota.pk is None:
        before = None
        quota.places = places
        quota.full_clean()
        quota.save()
    else:
        quota = RegionQuota.objects.select_for_update().get(pk=quota.pk)
        before = quota.places
        quota.places = places
        quota.save(update_fields=["places"])
    return QuotaRevision.objects.create(
        quota=quota,
        places_before=before,
        places_after=places,
        effective_on=effective_on,
        reason=reason,
        created_by=by,
    )

"""The tracker's models, one module per area; import them from here."""

from .audit import AccessKind, AccessLog
from .benefits import (
    LIVE_STATES,
    AmountKind,
    BatchExclusion,
    BatchState,
    BenefitGrant,
    BenefitRule,
    BenefitUnit,
    Frequency,
    IndexValue,
    Payment,
    PaymentBatch,
    PaymentState,
    Recalculation,
)
from .cases import Group, Household, Person, StatusChange
from .imports import (
    DuplicateCandidate,
    DuplicateReason,
    DuplicateStatus,
    ImportBatch,
    ImportStatus,
)
from .quota_ledger import PlacementStatus, QuotaPlacement
from .reference import Country, Program, QuotaRevision, Region, RegionQuota
from .reports import AgeBandLimits
from .retention import RetentionRun
from .staff import StaffProfile, profile_for
from .summaries import HouseholdSummary, PaymentMonth

__all__ = [
    "LIVE_STATES",
    "AccessKind",
    "AccessLog",
    "AgeBandLimits",
    "AmountKind",
    "BatchExclusion",
    "BatchState",
    "BenefitGrant",
    "BenefitRule",
    "BenefitUnit",
    "Country",
    "DuplicateCandidate",
    "DuplicateReason",
    "DuplicateStatus",
    "Frequency",
    "Group",
    "Household",
    "HouseholdSummary",
    "ImportBatch",
    "ImportStatus",
    "IndexValue",
    "Payment",
    "PaymentBatch",
    "PaymentMonth",
    "PaymentState",
    "Person",
    "PlacementStatus",
    "Program",
    "QuotaPlacement",
    "QuotaRevision",
    "Recalculation",
    "Region",
    "RegionQuota",
    "RetentionRun",
    "StaffProfile",
    "StatusChange",
    "profile_for",
]

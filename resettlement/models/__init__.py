"""The tracker's models, one module per area; import them from here."""

from .audit import AccessKind, AccessLog
from .cases import Group, Household, Person, StatusChange
from .imports import (
    DuplicateCandidate,
    DuplicateReason,
    DuplicateStatus,
    ImportBatch,
    ImportStatus,
)
from .reference import Country, Program, QuotaRevision, Region, RegionQuota
from .reports import AgeBandLimits
from .retention import RetentionRun
from .staff import StaffProfile, profile_for

__all__ = [
    "AccessKind",
    "AccessLog",
    "AgeBandLimits",
    "Country",
    "DuplicateCandidate",
    "DuplicateReason",
    "DuplicateStatus",
    "Group",
    "Household",
    "ImportBatch",
    "ImportStatus",
    "Person",
    "Program",
    "QuotaRevision",
    "Region",
    "RegionQuota",
    "RetentionRun",
    "StaffProfile",
    "StatusChange",
    "profile_for",
]

"""Choices used across the app, and the one table of allowed case status transitions."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPLIED = "applied", _("Applied")
    UNDER_REVIEW = "under_review", _("Under review")
    HEARING = "hearing", _("Hearing offered")
    GRANTED = "granted", _("Status granted")
    REFUSED = "refused", _("Refused")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED = "arrived", _("Arrived")
    SETTLED = "settled", _("Settled")
    CITIZENSHIP = "citizenship", _("Citizenship granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RETURNED = "returned", _("Returned abroad")
    CLOSED = "closed", _("Closed")


S = CaseStatus

#: Where a case may go from each status. Refusal comes only after a hearing was offered
#: (Kazakh rules); withdrawal and return abroad are possible from every open status.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.APPLIED, S.IN_TRANSIT}),
    S.APPLIED: frozenset({S.UNDER_REVIEW}),
    S.UNDER_REVIEW: frozenset({S.GRANTED, S.HEARING}),
    S.HEARING: frozenset({S.GRANTED, S.REFUSED}),
    S.GRANTED: frozenset({S.IN_TRANSIT, S.ARRIVED, S.SETTLED}),
    S.IN_TRANSIT: frozenset({S.ARRIVED}),
    S.ARRIVED: frozenset({S.APPLIED, S.SETTLED}),
    S.SETTLED: frozenset({S.CITIZENSHIP}),
    S.CITIZENSHIP: frozenset({S.CLOSED}),
    S.REFUSED: frozenset({S.CLOSED}),
    S.WITHDRAWN: frozenset({S.CLOSED}),
    S.RETURNED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

#: Statuses in which a case is still being worked on.
OPEN_STATUSES = frozenset(
    {S.DRAFT, S.APPLIED, S.UNDER_REVIEW, S.HEARING, S.GRANTED, S.IN_TRANSIT, S.ARRIVED, S.SETTLED}
)
for _open in OPEN_STATUSES:
    TRANSITIONS[_open] = TRANSITIONS[_open] | {S.WITHDRAWN, S.RETURNED}

#: Moving into these needs a written reason.
REASON_REQUIRED = frozenset({S.REFUSED, S.WITHDRAWN, S.RETURNED, S.HEARING})

#: Statuses whose households no longer hold quota places or count as placed.
RELEASED_STATUSES = frozenset({S.REFUSED, S.WITHDRAWN, S.RETURNED})

#: Statuses in which the family is physically in the host country.
ARRIVED_STATUSES = frozenset({S.ARRIVED, S.SETTLED, S.CITIZENSHIP})


class GroupStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("group status", "Planned")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED = "arrived", _("Arrived")
    STOPPED = "stopped", _("Stopped in transit")
    RETURNED = "returned", _("Returned to origin")
    CLOSED = "closed", _("Closed")


class RegionLevel(models.TextChoices):
    COUNTRY = "country", _("Country")
    OBLAST = "oblast", _("Oblast")
    CITY = "city", _("City of republic significance")
    DISTRICT = "district", _("District")


class ApplicationChannel(models.TextChoices):
    CONSULATE = "consulate", _("Embassy or consulate abroad")
    ONLINE = "online", _("Online (e-government)")
    SERVICE_CENTRE = "service_centre", _("Public service centre")
    MIGRATION_OFFICE = "migration_office", _("Migration office")
    EVACUATION = "evacuation", _("State evacuation")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    SIBLING = "sibling", _("Brother or sister")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    OTHER = "other", _("Other relative")


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")


class DatePrecision(models.TextChoices):
    EXACT = "day", _("Exact date")
    YEAR = "year", _("Year only")


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("Foreign passport")
    ID_CARD = "id_card", _("Foreign identity card")
    BIRTH_CERTIFICATE = "birth_cert", _("Birth certificate")
    TRAVEL_DOCUMENT = "travel_doc", _("Travel document / laissez-passer")
    STATELESS_DOCUMENT = "stateless", _("Stateless person's document")
    RESIDENCE_PERMIT = "residence", _("Residence permit")
    NONE = "none", _("No document")


class Education(models.TextChoices):
    NONE = "none", _("No formal education")
    PRIMARY = "primary", _("Primary")
    BASIC = "basic", _("Basic secondary")
    SECONDARY = "secondary", _("General secondary")
    VOCATIONAL = "vocational", _("Technical / vocational")
    HIGHER = "higher", _("Higher")
    POSTGRADUATE = "postgraduate", _("Postgraduate")
    UNKNOWN = "unknown", _("Unknown")


class MemberStatus(models.TextChoices):
    ABROAD = "abroad", _("Still abroad")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED = "arrived", _("Arrived")
    LEFT = "left", _("Left the household")
    DECEASED = "deceased", _("Deceased")


class HistoryKind(models.TextChoices):
    CREATED = "created", _("Case opened")
    TRANSITION = "transition", _("Status change")
    EXTENSION = "extension", _("Status extended")

"""Possible duplicate persons: finding them for a saved household, and the review decisions.

Exact matches are the IIN (unique in the database, so never two records) and the document
number (compared without spaces and dashes); likely matches are the same surname and given
name in either script (``text.search_key``) with the same date of birth, or the same year
when either date is known only to the year.

Merging keeps one record: every field the kept record lacks is copied from the other, then
the other is deleted. Its last state stays in the person history (django-simple-history
records the deletion with who did it) and in the decision's ``merged_snapshot``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from ..enums import Relation
from ..models import DuplicateCandidate, DuplicateReason, DuplicateStatus, Person
from .imports import PERSON_FIELDS, _people_named, _person_name_key, _same_birth, name_key

#: Fields copied into the kept record when it has them empty.
MERGED_FIELDS = tuple(f for f in PERSON_FIELDS if f not in ("relation", "sex", "member_status"))


def likely_duplicates(person: Person) -> list[tuple[Person, str]]:
    """Other people who may be ``person``: same document number, or same name and birth."""
    found: dict[int, tuple[Person, str]] = {}
    others = Person.objects.exclude(pk=person.pk).select_related("household")
    if person.document_key:
        for other in others.filter(document_key=person.document_key):
            found[other.pk] = (other, DuplicateReason.DOCUMENT)
    key = name_key(
        person.surname or person.surname_latin, person.given_name or person.given_name_latin
    )
    if key and person.birth_date:
        # The import's look-up: same key prefix and year of birth (index person_name_birth).
        for other in _people_named([(key, person.birth_date.year)]):
            if (
                other.pk != person.pk
                and other.pk not in found
                and _person_name_key(other) == key
                and _same_birth(
                    person.birth_date,
                    person.birth_date_precision,
                    other.birth_date,
                    other.birth_date_precision,
                )
            ):
                found[other.pk] = (other, DuplicateReason.NAME_BIRTH)
    return list(found.values())


def queue_duplicates(person: Person) -> list[DuplicateCandidate]:
    """Record the possible duplicates of ``person`` for review (pairs already known are kept)."""
    created = []
    for other, reason in likely_duplicates(person):
        pair = Q(person=person, other=other) | Q(person=other, other=person)
        if not DuplicateCandidate.objects.filter(pair).exists():
            created.append(
                DuplicateCandidate.objects.create(person=person, other=other, reason=reason)
            )
    return created


class MergeError(ValidationError):
    """A merge the rules do not allow; the message is meant for the user."""


@transaction.atomic
def mark_different(
    *, candidate: DuplicateCandidate, by: AbstractBaseUser, note: str = ""
) -> DuplicateCandidate:
    """Record that the pair are two different people; the pair is not proposed again."""
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateStatus.OPEN:
        raise MergeError(_("This pair has already been decided."))
    candidate.status = DuplicateStatus.DIFFERENT
    candidate.decided_by, candidate.decided_at, candidate.note = by, timezone.now(), note
    candidate.save()
    return candidate


@transaction.atomic
def merge_duplicate(
    *, candidate: DuplicateCandidate, keep: Person, by: AbstractBaseUser, note: str = ""
) -> Person:
    """Merge the pair into ``keep`` (one of the two): fill its empty fields from the other
    record, delete the other record (history kept), and record the decision.

    Refuses when the record to remove heads a household that has other members: make
    someone else the head first, so no household is left without one.
    """
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateStatus.OPEN:
        raise MergeError(_("This pair has already been decided."))
    if candidate.person is None or candidate.other is None:
        raise MergeError(_("One of the two records no longer exists."))
    if keep.pk not in (candidate.person_id, candidate.other_id):
        raise MergeError(_("Keep one of the two records of the pair."))
    kept = Person.objects.select_for_update().get(pk=keep.pk)
    removed_id = candidate.other_id if kept.pk == candidate.person_id else candidate.person_id
    removed = Person.objects.select_for_update().select_related("household").get(pk=removed_id)
    if (
        removed.relation == Relation.HEAD
        and removed.household.members.exclude(pk=removed.pk).exists()
    ):
        raise MergeError(
            _(
                "%(name)s heads household %(ref)s, which has other members. Make another member "
                "the head first, or keep this record."
            )
            % {"name": removed.full_name, "ref": removed.household.reference}
        )
    snapshot = model_to_dict(removed)
    snapshot["birth_date"] = removed.birth_date.isoformat() if removed.birth_date else None
    snapshot["household_reference"] = removed.household.reference
    for name in MERGED_FIELDS:
        if not getattr(kept, name) and getattr(removed, name):
            setattr(kept, name, getattr(removed, name))
    if kept.iin == removed.iin and removed.iin:
        removed.iin = ""  # the IIN is unique; it now lives on the kept record
    removed_side = "other" if kept.pk == candidate.person_id else "person"
    open_pairs = list(
        DuplicateCandidate.objects.filter(
            Q(person=removed) | Q(other=removed), status=DuplicateStatus.OPEN
        ).exclude(pk=candidate.pk)
    )
    removed._history_user = by
    removed.delete()
    kept._history_user = by
    kept._change_reason = _("Merged with person %(id)s") % {"id": removed_id}
    kept.save()
    now = timezone.now()
    setattr(candidate, removed_side, None)
    candidate.status = DuplicateStatus.MERGED
    candidate.kept = kept
    candidate.merged_snapshot = snapshot
    candidate.decided_by, candidate.decided_at, candidate.note = by, now, note
    candidate.save()
    # Other open pairs that named the removed record now name the kept one (or close,
    # when that pair is already known or would pair the kept record with itself).
    for pair in open_pairs:
        side = "person" if pair.person_id == removed_id else "other"
        third = pair.other_id if side == "person" else pair.person_id
        known = DuplicateCandidate.objects.filter(
            Q(person=kept, other_id=third) | Q(person_id=third, other=kept)
        ).exists()
        setattr(pair, side, None)
        if third == kept.pk or known:
            pair.status = DuplicateStatus.MERGED
            pair.kept, pair.decided_by, pair.decided_at = kept, by, now
            pair.note = _("Closed by the merge of pair %(id)s.") % {"id": candidate.pk}
        else:
            setattr(pair, side, kept)
        pair.save()
    return kept

"""Per-household counts of members, kept beside the household so reports need not read people.

The report pages aggregate a million people; joining them to their households for every page
costs seconds. :class:`HouseholdSummary` holds, per household, what the reports count of its
members — how many there are, how many still take a place, the head's names (for the household
list), and the members by age band on arrival × sex and by education × sex — so a report sums
270,000 household rows instead. The counts are derived data: ``services.summaries`` recomputes a
household's row after every write that can change it (a member saved, moved or deleted, the
household's arrival date or program changed, age band limits changed, imports, anonymisation),
with the same SQL the reports used to run over people. A household without members has no row.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..enums import Education, Sex
from .cases import Household

AGE_BAND_CODES = ("minor", "working", "pension", "unknown")
SEXES = tuple(sex.value for sex in Sex)


def age_field(band: str, sex: str) -> str:
    return f"{band}_{sex.lower()}"


def education_field(education: str, sex: str) -> str:
    return f"edu_{education}_{sex.lower()}"


#: The counter columns, in a fixed order.
COUNTERS: tuple[str, ...] = (
    "people",
    "people_present",
    *(age_field(band, sex) for band in AGE_BAND_CODES for sex in SEXES),
    *(education_field(education.value, sex) for education in Education for sex in SEXES),
)
HEAD_NAMES = ("head_surname", "head_given_name", "head_surname_latin", "head_given_name_latin")


class HouseholdSummary(models.Model):
    household = models.OneToOneField(
        Household, on_delete=models.CASCADE, primary_key=True, related_name="summary"
    )
    head_surname = models.CharField(max_length=100, blank=True)
    head_given_name = models.CharField(max_length=100, blank=True)
    head_surname_latin = models.CharField(max_length=100, blank=True)
    head_given_name_latin = models.CharField(max_length=100, blank=True)
    locals().update({name: models.PositiveIntegerField(default=0) for name in COUNTERS})

    class Meta:
        verbose_name = _("household summary")
        verbose_name_plural = _("household summaries")

    def __str__(self) -> str:
        return f"{self.household_id}: {self.people}"

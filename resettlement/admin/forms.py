"""Forms used by the case admin: members, the member formset and the status-change forms."""

import datetime as dt
import re

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from ..enums import REASON_REQUIRED, CaseStatus, DatePrecision, Relation
from ..models import Person
from ..services.cases import allowed_transitions
from ..validators import FIRST_BIRTH_YEAR, validate_birth_year
from .access import VersionedForm

_YEAR_ALONE = re.compile(r"\s*(\d{4})\s*")


class BirthDateField(forms.DateField):
    """A date of birth, or the year alone (``1975``): for many returnees nothing more is known."""

    def to_python(self, value: object) -> dt.date | None:
        if isinstance(value, str) and (year := _YEAR_ALONE.fullmatch(value)):
            validate_birth_year(int(year.group(1)))
            return dt.date(int(year.group(1)), 1, 1)
        return super().to_python(value)

    def has_changed(self, initial: object, data: object) -> bool:
        # The initial value may be the year alone as text (see PersonForm): compare dates.
        if isinstance(initial, str):
            try:
                initial = self.to_python(initial)
            except forms.ValidationError:
                return True
        return super().has_changed(initial, data)


class PersonForm(VersionedForm):
    """A person, on the person page or as a member on the household page. The date of birth may
    be typed as a year alone, which records 1 January with the year as what is known (and shows
    the year alone again); a full date typed over it records the full date."""

    birth_date = BirthDateField(
        label=capfirst(Person._meta.get_field("birth_date").verbose_name),
        required=False,
        # The member cards of the household page hide help texts; the placeholder stays.
        widget=AdminDateWidget(attrs={"placeholder": _("date or year")}),
        help_text=_("A date, or the year alone (1975) when only the year is known."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        person = self.instance
        day = person.birth_date
        if (
            day
            and person.birth_date_precision == DatePrecision.YEAR
            and (day.month, day.day) == (1, 1)
            and day.year >= FIRST_BIRTH_YEAR  # shown so, it must be taken back as it is
        ):
            self.initial["birth_date"] = str(day.year)

    def clean(self) -> dict:
        cleaned = super().clean()
        day = cleaned.get("birth_date")
        if day is None:
            return cleaned
        precision = cleaned.get("birth_date_precision")
        chose_precision = "birth_date_precision" in self.changed_data
        typed = self.data.get(self.add_prefix("birth_date"), "")
        if isinstance(typed, str) and _YEAR_ALONE.fullmatch(typed):
            if chose_precision and precision == DatePrecision.EXACT:
                self.add_error(
                    "birth_date",
                    _("This is a year alone: type the full date, or choose “Year only”."),
                )
                return cleaned
            cleaned["birth_date_precision"] = DatePrecision.YEAR
        elif precision == DatePrecision.YEAR:
            if chose_precision:
                # "Year only" chosen now: what is known is the year.
                cleaned["birth_date"] = day.replace(month=1, day=1)
            elif "birth_date" in self.changed_data:
                # A full date typed over a year alone: the day is known now.
                cleaned["birth_date_precision"] = DatePrecision.EXACT
        if cleaned.get("birth_date_precision") == DatePrecision.YEAR and (
            chose_precision or "birth_date" in self.changed_data
        ):
            try:
                validate_birth_year(day.year)
            except forms.ValidationError as error:
                self.add_error("birth_date", error)
        return cleaned


class HouseholdMembersFormSet(BaseInlineFormSet):
    """Checks across the members of one household before anything is saved."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        heads, iins = 0, {}
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            if form.cleaned_data.get("relation") == Relation.HEAD:
                heads += 1
            iin = form.cleaned_data.get("iin")
            if iin:
                if iin in iins:
                    raise forms.ValidationError(
                        _("Two members have the same IIN %(iin)s. Each person has their own."),
                        params={"iin": iin},
                    )
                iins[iin] = form
        if heads != 1:
            raise forms.ValidationError(
                _("A household has exactly one head; this form has %(count)d.") % {"count": heads}
            )


class TransitionForm(forms.Form):
    """Pick the next status from those the workflow allows, with its date and reason."""

    to = forms.ChoiceField(label=_("New status"), widget=forms.RadioSelect)
    on = forms.DateField(
        label=_("Effective date"), initial=timezone.localdate, widget=AdminDateWidget
    )
    reason = forms.CharField(
        label=_("Reason or note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required for a hearing, refusal, withdrawal or return abroad."),
    )

    def __init__(self, *args, status: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(s.value, s.label) for s in allowed_transitions(status)]

    def clean(self) -> dict:
        cleaned = super().clean()
        to = cleaned.get("to")
        if to in REASON_REQUIRED and not cleaned.get("reason", "").strip():
            self.add_error(
                "reason", _("Give a reason for “%(to)s”.") % {"to": CaseStatus(to).label}
            )
        return cleaned


class ExtensionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    def __init__(self, *args, max_months: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["months"] = forms.IntegerField(
            label=_("Extend by (months)"), min_value=1, max_value=max_months, initial=max_months
        )
        self.order_fields(["months", "reason"])

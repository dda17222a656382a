"""Forms of the benefit and payment pages; each one feeds one service call."""

import uuid

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..enums import RegionLevel
from ..models import BenefitRule, Household, IndexValue, Program, Region, RegionQuota
from ..selectors.access import is_region_scoped, programs_for, regions_for
from ..selectors.benefits import rules_in_force
from ..services.quota_ledger import quota_regions


class PrepareRunForm(forms.Form):
    """Program, month and (for a region-bound officer, required) one of their regions.

    The choices are the officer's scope, so a run only ever collects in-scope households.
    """

    program = forms.ModelChoiceField(label=_("program"), queryset=Program.objects.none())
    month = forms.DateField(
        label=_("month"),
        widget=AdminDateWidget,
        initial=timezone.localdate,
        help_text=_("Any day of the month to pay; payments due up to that month are included."),
    )
    region = forms.ModelChoiceField(
        label=_("region"),
        required=False,
        queryset=Region.objects.none(),
        help_text=_("Leave empty for the whole program."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs_for(user)
        self.fields["region"].queryset = regions_for(user).filter(
            level__in=[RegionLevel.OBLAST, RegionLevel.CITY]
        )
        if is_region_scoped(user):
            # A program-wide run would pay households outside the officer's regions.
            self.fields["region"].required = True
            self.fields["region"].help_text = _("One of your regions.")


class PayRunForm(forms.Form):
    paid_on = forms.DateField(
        label=_("paid on"), widget=AdminDateWidget, initial=timezone.localdate
    )
    reference = forms.CharField(
        label=_("payment reference"), max_length=100, help_text=_("e.g. the bank register number")
    )


class ExcludeForm(forms.Form):
    household = forms.ModelChoiceField(label=_("household"), queryset=Household.objects.none())
    reason = forms.CharField(label=_("reason"), max_length=300)

    def __init__(self, *args, households: QuerySet[Household], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("decision"),
        choices=[("refused", _("Refuse")), ("missed", _("Mark missed"))],
        widget=forms.RadioSelect,
        initial="refused",
    )
    reason = forms.CharField(label=_("reason"), max_length=300)


class IdempotentForm(forms.Form):
    """Carries a key made when the page was shown, so a double submission records one entry."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = uuid.uuid4().hex


class ReverseForm(IdempotentForm):
    reason = forms.CharField(label=_("reason"), max_length=300)
    paid_on = forms.DateField(
        label=_("reversed on"), widget=AdminDateWidget, initial=timezone.localdate
    )
    reference = forms.CharField(label=_("reference of the reversal"), max_length=100)


class PlaceForm(forms.Form):
    quota = forms.ModelChoiceField(label=_("quota"), queryset=RegionQuota.objects.none())
    places = forms.IntegerField(
        label=_("places"), min_value=1, help_text=_("Members arriving, by default.")
    )
    override_reason = forms.CharField(
        label=_("reason to place over the quota"),
        max_length=300,
        required=False,
        help_text=_("Only when the quota is full, and only with the override permission."),
    )

    def __init__(
        self, *args, household: Household, quotas: QuerySet[RegionQuota], **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        quotas = quotas.filter(program=household.program)
        destination = household.destination_region
        if destination is not None:
            # Only the quotas of the region the family is headed for (or its oblast).
            quotas = quotas.filter(region__in=quota_regions(destination))
        self.fields["quota"].queryset = quotas.select_related("region")


class PlaceByReferenceForm(forms.Form):
    """Place a household found by its reference: for quota managers, who see no names."""

    reference = forms.CharField(label=_("household reference"), max_length=40)
    quota = forms.ModelChoiceField(label=_("quota"), queryset=RegionQuota.objects.none())
    places = forms.IntegerField(
        label=_("places"),
        min_value=1,
        required=False,
        help_text=_("Empty: one place per member arriving."),
    )
    override_reason = forms.CharField(
        label=_("reason to place over the quota"),
        max_length=300,
        required=False,
        help_text=_("Only when the quota is full, and only with the override permission."),
    )

    def __init__(
        self,
        *args,
        households: QuerySet[Household],
        quotas: QuerySet[RegionQuota],
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.households = households
        self.fields["quota"].queryset = quotas.select_related("region", "program").order_by(
            "-year", "program", "region__code"
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        reference, quota = cleaned.get("reference", "").strip(), cleaned.get("quota")
        if reference and quota:
            household = self.households.filter(reference=reference, program=quota.program).first()
            if household is None:
                self.add_error(
                    "reference",
                    _("No household %(ref)s of %(program)s among the cases you work on.")
                    % {"ref": reference, "program": quota.program.code},
                )
            cleaned["household"] = household
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=300)


class GrantForm(forms.Form):
    rule = forms.ModelChoiceField(label=_("benefit"), queryset=BenefitRule.objects.none())
    tier = forms.DecimalField(
        label=_("tier"),
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text=_("For a range (e.g. 15–30 MCI): the multiple chosen for this family."),
    )
    tier_reason = forms.CharField(label=_("why this tier"), max_length=300, required=False)
    starts_on = forms.DateField(
        label=_("first month"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("Empty: the date the case reached the rule's status."),
    )

    def __init__(self, *args, household: Household, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules_in_force(household).filter(
            ~Q(grants__household=household)
        )


class TierForm(forms.Form):
    tier = forms.DecimalField(label=_("tier"), max_digits=14, decimal_places=2)
    reason = forms.CharField(label=_("why this tier"), max_length=300)


class IndexValueForm(forms.ModelForm):
    """A change of value recomputes planned payments; it needs the reason or legal act."""

    change_reason = forms.CharField(
        label=_("reason / legal act"),
        max_length=300,
        required=False,
        help_text=_("Required when the value is set or changed."),
    )

    class Meta:
        model = IndexValue
        fields = ("country", "code", "year", "value", "legal_basis")

    #: Country codes the user may set values for (``None``: any); set by the admin per request.
    allowed_countries: frozenset[str] | None = None

    def clean(self) -> dict:
        cleaned = super().clean()
        country = cleaned.get("country") or self.instance.country
        if self.allowed_countries is not None and country not in self.allowed_countries:
            self.add_error(None, _("You set index values only for the countries of your programs."))
        if "value" in self.changed_data and not cleaned.get("change_reason", "").strip():
            self.add_error("change_reason", _("Give the reason or legal act for the change."))
        return cleaned

"""The benefits panel on the household page: quota places, benefits and links to act on them."""

from django import template
from django.db.models import Q, Sum

from ..benefits import format_money
from ..models import BenefitGrant, Household, PaymentState, PlacementStatus

register = template.Library()


@register.inclusion_tag("admin/resettlement/benefits/household_panel.html", takes_context=True)
def household_benefits(context: template.Context, household: Household) -> dict:
    symbol = household.program.currency_symbol
    live = Q(payments__reversal_of__isnull=True)
    grants = (
        BenefitGrant.objects.filter(household=household)
        .select_related("rule")
        .annotate(
            paid=Sum("payments__amount", filter=live & Q(payments__state=PaymentState.PAID)),
            due=Sum(
                "payments__amount",
                filter=live & Q(payments__state__in=[PaymentState.PLANNED, PaymentState.APPROVED]),
            ),
        )
        .order_by("rule__code")
    )
    return {
        "household": household,
        "perms": context.get("perms"),
        "placement": household.quota_placements.filter(status=PlacementStatus.RESERVED)
        .select_related("quota__region")
        .first(),
        "grants": [
            (grant, format_money(grant.paid or 0, symbol), format_money(grant.due or 0, symbol))
            for grant in grants
        ],
    }

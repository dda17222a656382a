"""Roles: which permissions each kind of staff holds. The one table behind the auth groups.

The data migrations ``0006_access_roles`` and ``0011_payment_roles`` and the ``sync_roles``
management command all apply :data:`ROLE_PERMISSIONS`. A permission that does not exist yet (e.g. a payment permission from an
area that is not installed) is skipped with a warning; once it exists, ``manage.py sync_roles``
grants it. The README's "Roles" matrix documents this table; keep the two in step.

Record-level scope (which programs and regions a user sees) is separate: see
``StaffProfile`` and ``selectors/access.py``.
"""

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

REGISTRAR = "registrar"
CASE_OFFICER = "case officer"
FINANCE_OFFICER = "finance officer"
APPROVER = "approver"
QUOTA_MANAGER = "quota manager"
ANALYST = "analyst"
PROGRAM_ADMINISTRATOR = "program administrator"

ROLE_LABELS = {
    REGISTRAR: _("registrar"),
    CASE_OFFICER: _("case officer"),
    FINANCE_OFFICER: _("finance officer"),
    APPROVER: _("approver"),
    QUOTA_MANAGER: _("quota manager"),
    ANALYST: _("analyst"),
    PROGRAM_ADMINISTRATOR: _("program administrator"),
}

#: Reading reference data (needed for every form's choices and autocomplete boxes).
REFERENCE = ["view_program", "view_country", "view_region", "view_regionquota"]

#: Seeing cases, their members and groups: pages with names, documents and contacts.
CASE_READ = ["view_household", "view_person", "view_group", "view_statuschange"]

#: Reading the benefit rules and index values (no personal data).
BENEFIT_REFERENCE = ["view_indexvalue", "view_benefitrule"]

#: Reading the ledger: grants, payments, runs and their exclusions, recalculations, quota places.
LEDGER_READ = [
    *BENEFIT_REFERENCE,
    "view_benefitgrant",
    "view_payment",
    "view_paymentbatch",
    "view_batchexclusion",
    "view_recalculation",
    "view_quotaplacement",
]

#: The maker's side of a payment run: grant benefits, prepare (add) a run, leave a household out
#: (change). The checker's permissions (``approve_payments``, ``record_payments``) are distinct, so
#: no role but the program administrator holds both; the service still refuses the preparer as
#: approver of their own run.
PREPARE_PAYMENTS = ["add_benefitgrant", "add_paymentbatch", "change_paymentbatch"]
CHECK_PAYMENTS = ["approve_payments", "record_payments"]

#: Placing households in a regional quota and releasing their places.
PLACE_IN_QUOTA = ["view_quotaplacement", "add_quotaplacement", "change_quotaplacement"]

#: Role → permission codenames (all in the ``resettlement`` app unless written "app.codename").
ROLE_PERMISSIONS: dict[str, list[str]] = {
    REGISTRAR: [
        *REFERENCE,
        *CASE_READ,
        "add_household",
        "change_household",
        "add_person",
        "change_person",
        "add_group",
        "change_group",
        "import_households",
        "review_duplicates",
    ],
    CASE_OFFICER: [
        *REFERENCE,
        *CASE_READ,
        "change_case_status",
    ],
    # Grants benefits and prepares payment runs; never approves or pays them.
    FINANCE_OFFICER: [
        *REFERENCE,
        *CASE_READ,
        *LEDGER_READ,
        *PREPARE_PAYMENTS,
        "view_reports",
    ],
    # Approves and pays runs, refuses or reverses payments; never prepares a run.
    APPROVER: [
        *REFERENCE,
        *CASE_READ,
        *LEDGER_READ,
        *CHECK_PAYMENTS,
        "view_reports",
    ],
    # Places households (found by reference: no names) in quotas, over them with a reason.
    QUOTA_MANAGER: [
        *REFERENCE,
        *PLACE_IN_QUOTA,
        "add_regionquota",
        "change_regionquota",
        "view_quotarevision",
        "override_quota",
        "view_reports",
    ],
    # Aggregates only: never a page or file with names, documents or contacts.
    ANALYST: [
        *REFERENCE,
        *BENEFIT_REFERENCE,
        "view_reports",
    ],
    PROGRAM_ADMINISTRATOR: [
        *REFERENCE,
        *CASE_READ,
        "add_household",
        "change_household",
        "add_person",
        "change_person",
        "add_group",
        "change_group",
        "change_case_status",
        "view_reports",
        "export_personal_data",
        "import_households",
        "review_duplicates",
        "override_quota",
        "add_regionquota",
        "change_regionquota",
        "view_quotarevision",
        "view_accesslog",
        "view_staffprofile",
        "add_staffprofile",
        "change_staffprofile",
        "view_retentionrun",
        "auth.view_user",
        *LEDGER_READ,
        *PREPARE_PAYMENTS,
        *CHECK_PAYMENTS,
        *PLACE_IN_QUOTA[1:],
        "add_indexvalue",
        "change_indexvalue",
        "add_benefitrule",
        "change_benefitrule",
    ],
}

#: Roles whose members may see personal data (names, documents, contacts).
PERSONAL_DATA_ROLES = frozenset(
    role
    for role, codenames in ROLE_PERMISSIONS.items()
    if {"view_person", "view_household"} & set(codenames)
)


def _split(codename: str) -> tuple[str, str]:
    app_label, _dot, name = codename.rpartition(".")
    return (app_label or "resettlement"), name


def sync_roles(*, apps=None, roles: Iterable[str] | None = None) -> list[str]:
    """Make each role's auth group hold exactly the permissions of the table.

    ``apps`` is a migration's app registry (or ``None`` for the real one). Returns the codenames
    that do not exist (yet) and were skipped.
    """
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    AuthGroup = apps.get_model("auth", "Group")  # noqa: N806
    Permission = apps.get_model("auth", "Permission")
    missing: list[str] = []
    for role in roles or ROLE_PERMISSIONS:
        group, _created = AuthGroup.objects.get_or_create(name=role)
        wanted = []
        for codename in ROLE_PERMISSIONS[role]:
            app_label, name = _split(codename)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=name
            ).first()
            if permission is None:
                missing.append(f"{app_label}.{name}")
            else:
                wanted.append(permission)
        group.permissions.set(wanted)
    return sorted(set(missing))

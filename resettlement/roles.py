"""Roles: which permissions each kind of staff holds. The one table behind the auth groups.

The data migration ``0006_access_roles`` and the ``sync_roles`` management command both apply
:data:`ROLE_PERMISSIONS`. A permission that does not exist yet (e.g. a payment permission from an
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
    # Payment permissions (prepare a batch) are added here when the payments area lands.
    FINANCE_OFFICER: [
        *REFERENCE,
        *CASE_READ,
        "view_reports",
    ],
    # Approves and pays batches, never prepares them (payment permissions added with payments).
    APPROVER: [
        *REFERENCE,
        *CASE_READ,
        "view_reports",
    ],
    QUOTA_MANAGER: [
        *REFERENCE,
        "add_regionquota",
        "change_regionquota",
        "view_quotarevision",
        "override_quota",
        "view_reports",
    ],
    # Aggregates only: never a page or file with names, documents or contacts.
    ANALYST: [
        *REFERENCE,
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

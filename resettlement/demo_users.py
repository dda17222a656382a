"""Demo sign-ins: one user per role, each with a scope, for trying the access rules by hand.

``seed_demo`` calls :func:`ensure_demo_users` and prints :func:`demo_users`. The passwords are
for demos only: users are created only when ``DEBUG`` is on (or ``force=True``), and never get
superuser rights.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as AuthGroup
from django.db import transaction

from . import roles
from .models import Program, Region, profile_for


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    description: str
    language: str
    programs: tuple[str, ...]  # program codes
    regions: tuple[str, ...] = ()  # region codes; empty = every region of the programs


#: The demo payment runs' maker (prepares) and checker (approves and records them paid).
DEMO_FINANCE_OFFICER = "finance.kz"
DEMO_APPROVER = "approver.kz"

DEMO_PASSWORD = "demo-only-pass-2021"  # noqa: S105 (printed on purpose; demo data only)

DEMO_USERS = (
    DemoUser(
        "registrar.kz", roles.REGISTRAR, "Kazakhstan kandas, all regions", "ru", ("KZ-KANDAS",)
    ),
    DemoUser(
        "registrar.pavlodar",
        roles.REGISTRAR,
        "Kazakhstan kandas, Pavlodar region only",
        "kk",
        ("KZ-KANDAS",),
        ("KZ-55",),
    ),
    DemoUser(
        "officer.kg",
        roles.CASE_OFFICER,
        "Kyrgyzstan kayrylman, all regions",
        "ky",
        ("KG-KAYRYLMAN",),
    ),
    DemoUser("finance.kz", roles.FINANCE_OFFICER, "Kazakhstan kandas", "ru", ("KZ-KANDAS",)),
    DemoUser("approver.kz", roles.APPROVER, "Kazakhstan kandas", "ru", ("KZ-KANDAS",)),
    DemoUser("quotas.kz", roles.QUOTA_MANAGER, "Kazakhstan kandas", "en", ("KZ-KANDAS",)),
    DemoUser(
        "analyst",
        roles.ANALYST,
        "both programs, aggregates only",
        "en",
        ("KZ-KANDAS", "KG-KAYRYLMAN"),
    ),
    DemoUser(
        "programadmin",
        roles.PROGRAM_ADMINISTRATOR,
        "both programs, access log",
        "en",
        ("KZ-KANDAS", "KG-KAYRYLMAN"),
    ),
)


def demo_users() -> list[tuple[str, str, str, str, str]]:
    """(username, password, role, description, language) for printing the demo sign-ins."""
    return [(u.username, DEMO_PASSWORD, u.role, u.description, u.language) for u in DEMO_USERS]


@transaction.atomic
def ensure_demo_users(*, force: bool = False) -> list[str]:
    """Create or reset the demo users with their role and scope; returns their usernames.

    Does nothing unless ``DEBUG`` is on or ``force`` is given.
    """
    if not (settings.DEBUG or force):
        return []
    roles.sync_roles()
    user_model = get_user_model()
    for demo in DEMO_USERS:
        user, _created = user_model.objects.get_or_create(username=demo.username)
        user.is_staff = True
        user.is_superuser = False
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([AuthGroup.objects.get(name=demo.role)])
        profile = profile_for(user)
        profile.preferred_language = demo.language
        profile.save()
        profile.programs.set(Program.objects.filter(code__in=demo.programs))
        profile.regions.set(Region.objects.filter(code__in=demo.regions))
    return [u.username for u in DEMO_USERS]

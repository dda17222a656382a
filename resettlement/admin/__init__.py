"""Data entry in the Django admin. One module per area; each registers its own models."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import (  # noqa: F401  (registration side effects)
    access,
    benefits,
    cases,
    imports,
    languages,
    reference,
    reports,
)

admin.site.site_header = _("Resettlement case tracker")
admin.site.site_title = _("Resettlement tracker")
admin.site.index_title = _("Case work")

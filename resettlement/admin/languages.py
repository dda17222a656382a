"""Languages in the admin: each user's preferred language on the user page, and reference
data (countries, regions, programs) listed in the order of the active language's names."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..models import StaffProfile
from ..models.reference import TranslatedNameMixin, localized_name_field


def localized_name_ordering() -> list:
    """Order by the active language's name, rows without one by their English name."""
    field = localized_name_field()
    if field == "name_en":
        return ["name_en"]
    return [F(field).asc(nulls_last=True), "name_en"]


class LocalizedNameOrderingMixin:
    """Changelist and autocomplete of a reference model sorted by names in the active language."""

    def get_ordering(self, request: HttpRequest) -> list:
        return localized_name_ordering()


class LocalizedChoicesMixin:
    """Select boxes of reference data (e.g. a member's citizenship) in the active language's order."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        model = db_field.remote_field.model
        if issubclass(model, TranslatedNameMixin) and "queryset" not in kwargs:
            kwargs["queryset"] = model._default_manager.order_by(*localized_name_ordering())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    fields = ("preferred_language",)
    verbose_name = verbose_name_plural = _("staff settings")


User = get_user_model()
BaseUserAdmin = type(admin.site._registry[User]) if admin.site.is_registered(User) else UserAdmin


class StaffUserAdmin(BaseUserAdmin):
    inlines = [*BaseUserAdmin.inlines, StaffProfileInline]


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)

"""Languages in the admin: each user's preferred language on the user page, and reference
data (countries, regions, programs) listed in the order of the active language's names."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import StaffProfile
from ..models.reference import TranslatedNameMixin, localized_name_field
from ..roles import ROLE_LABELS


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


#: Django stores permission names in English in the database; these labels are translated.
DEFAULT_PERMISSION_LABELS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """The picker's label, e.g. "Resettlement | household | Can change a case's status …"."""
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    opts = model._meta
    action, _sep, model_name = permission.codename.partition("_")
    if model_name == opts.model_name and action in DEFAULT_PERMISSION_LABELS:
        name = DEFAULT_PERMISSION_LABELS[action] % {"model": opts.verbose_name}
    else:
        name = gettext(permission.name)  # our own permissions are in the catalog
    return f"{opts.app_config.verbose_name} | {opts.verbose_name} | {name}"


class TranslatedPermissionsMixin:
    """The permission pickers of the user and group (role) pages, labelled in the user's language."""

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.remote_field.model is Permission:
            field.label_from_instance = permission_label
        if field is not None and db_field.remote_field.model is Group:
            field.label_from_instance = role_label
        return field


def role_label(group: Group) -> str:
    """A role (auth group) by its translated name; other groups by their own name."""
    return str(ROLE_LABELS.get(group.name, group.name))


def _registered_admin(model: type, default: type) -> type:
    return type(admin.site._registry[model]) if admin.site.is_registered(model) else default


User = get_user_model()
BaseUserAdmin = _registered_admin(User, UserAdmin)
BaseGroupAdmin = _registered_admin(Group, GroupAdmin)


class StaffUserAdmin(TranslatedPermissionsMixin, BaseUserAdmin):
    inlines = [*BaseUserAdmin.inlines, StaffProfileInline]


class RoleAdmin(TranslatedPermissionsMixin, BaseGroupAdmin):
    list_display = ("name", "role")

    @admin.display(description=_("role"))
    def role(self, group: Group) -> str:
        return role_label(group)


for _model, _admin_class in ((User, StaffUserAdmin), (Group, RoleAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin_class)

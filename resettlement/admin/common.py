"""Pieces shared by the admin modules."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ..selectors.search import search_by_key


class KeySearchMixin:
    """Search through the stored ``search_key``, never through the database's case folding."""

    search_fields = ["search_key"]  # enables the search box and autocomplete

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        return search_by_key(queryset, search_term), False


class ReadOnlyInline(admin.TabularInline):
    """An inline that lists related rows without letting anyone add, change or delete them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

"""The admin's navigation sidebar, rendered once for each different thing it shows.

Every admin page includes ``admin/nav_sidebar.html``: a table row per model the user may see,
each testing three times whether the page's path is under the model's link. On a list page
with an IIN search that template costs more than the search itself (a fifth of the page).
``{% nav_sidebar %}`` renders Django's own template and keeps the HTML, keyed on everything the
template reads: the language, and for each app and model the names, links and view-only flag
the user's permissions give, and whether the current path lies under each link. The same key
can only give the same HTML, so nothing shown is ever stale: a new permission, a renamed model
or another language is another key. ``tests/test_admin_sidebar.py`` compares with Django.
"""

from django import template
from django.template.defaultfilters import urlencode
from django.utils import translation
from django.utils.safestring import SafeString

register = template.Library()

#: Rendered sidebars by key, per worker. Keys differ by language, the models a role may see and
#: the page's model: a few hundred at most; the cache is emptied if it ever holds more.
MAX_ENTRIES = 512
_rendered: dict[tuple, SafeString] = {}


def _under(link: object, path: str) -> bool:
    """``{% if link in path %}`` as the template evaluates it (an error, e.g. no link, is False)."""
    try:
        return link in path
    except TypeError:
        return False


def sidebar_key(apps: list[dict], path: str) -> tuple:
    path = urlencode(path)
    key: list[object] = [translation.get_language()]
    for app in apps:
        key.append(
            (app["app_label"], str(app["name"]), app["app_url"], _under(app["app_url"], path))
        )
        key.extend(
            (
                model["object_name"],
                str(model["name"]),
                model.get("admin_url"),
                model.get("add_url"),
                bool(model.get("view_only")),
                _under(model.get("admin_url"), path),
            )
            for model in app["models"]
        )
    return tuple(key)


@register.simple_tag(takes_context=True)
def nav_sidebar(context: template.Context) -> SafeString:
    apps = context.get("available_apps") or []
    key = sidebar_key(apps, context["request"].path)
    html = _rendered.get(key)
    if html is None:
        html = context.template.engine.get_template("admin/nav_sidebar.html").render(context)
        if len(_rendered) >= MAX_ENTRIES:
            _rendered.clear()
        _rendered[key] = html
    return html

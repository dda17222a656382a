"""Form widgets that write Django's HTML directly.

Django renders a ``<select>`` through its template engine with one included template per
``<option>``: for the report filters' few hundred groups, regions and countries that is a tenth
of a report page's time. These widgets write the same HTML in Python
(``tests/test_widgets.py`` compares them with Django's on every kind of choice).
"""

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe


def _attributes(attrs: dict) -> SafeString:
    """``django/forms/widgets/attrs.html``: `` name="value"``, a bare name for True, nothing for
    False; names and values escaped."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            # ``stringformat:'s'`` keeps a safe string safe: escaped unless marked safe.
            parts.append(f' {conditional_escape(name)}="{conditional_escape(value)}"')
    return mark_safe("".join(parts))  # noqa: S308 - every part is escaped


class FastSelectMixin:
    def render(self, name: str, value, attrs: dict | None = None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        out = [format_html('<select name="{}"', widget["name"]), _attributes(widget["attrs"]), ">"]
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                out.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in group_choices:
                out.append(
                    format_html(
                        '\n  <option value="{}"{}>{}</option>\n',
                        option["value"],
                        _attributes(option["attrs"]),
                        option["label"],
                    )
                )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 - every value is escaped above


class FastSelect(FastSelectMixin, forms.Select):
    pass


class FastSelectMultiple(FastSelectMixin, forms.SelectMultiple):
    pass

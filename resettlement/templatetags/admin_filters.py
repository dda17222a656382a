"""The choices of a long admin list filter, as ``admin/filter.html`` writes them, in one pass.

A register has hundreds of groups and regions; the template loop of Django's filter template
renders each choice through several template nodes, which on the household list cost more than
its database queries. ``{% filter_choice_items choices %}`` writes the same ``<li><a>`` items
(``tests/test_query_counts.py`` compares the HTML) with ``format_html_join``.
"""

from django import template
from django.utils.encoding import iri_to_uri
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

SELECTED = mark_safe(' class="selected"')


@register.simple_tag
def filter_choice_items(choices: list[dict]) -> SafeString:
    return format_html_join(
        "\n",
        '<li{}><a href="{}">{}</a></li>',
        (
            (
                SELECTED if choice["selected"] else "",
                iri_to_uri(choice["query_string"]),
                choice["display"],
            )
            for choice in choices
        ),
    )

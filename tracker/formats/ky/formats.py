"""Kyrgyz: Django's formats, with numeric dates and a decimal comma."""

from django.conf.locale.ky.formats import *  # noqa: F403

DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"
DECIMAL_SEPARATOR = ","

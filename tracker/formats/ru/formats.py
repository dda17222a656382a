"""Russian: Django's formats, with numeric dates (30.11.2026) as the ministries write them."""

from django.conf.locale.ru.formats import *  # noqa: F403

DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"

"""`{% load when %}`: goodskin.when's functions as filters, so a page writes a time as a
message and the calendar feed do ({{ appointment.starts_at|day_and_time }})."""

from django import template
from django.utils import timezone

from goodskin import when

register = template.Library()

for name in when.__all__:
    register.filter(name, getattr(when, name))


@register.simple_tag
def today():
    """Today on the current zone's clock, to be written by a filter ({% today as day %}):
    Django's {% now %} would take a format of its own."""
    return timezone.localdate()

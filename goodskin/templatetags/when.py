"""`{% load when %}`: goodskin.when's functions as filters, so a page writes a time as a
message and the calendar feed do ({{ appointment.starts_at|day_and_time }})."""

from django import template

from goodskin import when

register = template.Library()

for name in when.__all__:
    register.filter(name, getattr(when, name))

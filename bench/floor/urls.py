"""The floor's two pages (see settings.py)."""

from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

ROWS = """
SELECT id, legal_first_name, legal_last_name, date_of_birth, phone, email
FROM patients_patient ORDER BY id LIMIT 100
"""


def ok(request):
    return HttpResponse(b"ok", content_type="text/plain")


def rows(request):
    with connection.cursor() as cursor:
        cursor.execute(ROWS)
        found = cursor.fetchall()
    return render(request, "rows.html", {"rows": found})


urlpatterns = [path("ok", ok), path("rows", rows)]

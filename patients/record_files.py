"""The exported record as a file: JSON for machines, PDF for people, both from one
`record_export.build_record` result so the two never disagree."""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from goodskin import when

from . import printouts
from .record_export import clinic_zone
from .record_layout import present

# The PDF's stylesheet: a file of its own, not a <style> in the page (templates carry no
# inline style, tests/goodskin/test_content_security_policy.py), and not a static file: only
# the PDF uses it.
STYLESHEET = "patients/record_pdf.css"


class FileFormat(models.TextChoices):
    JSON = "json", "JSON"
    PDF = "pdf", "PDF"


CONTENT_TYPES = {FileFormat.JSON: "application/json", FileFormat.PDF: "application/pdf"}


@dataclass(frozen=True)
class RecordFile:
    name: str
    content_type: str
    content: bytes


def filename(record: dict, file_format: str) -> str:
    """record-12-2026-11-30.pdf: the record number and the clinic's date, never the name (a
    download folder or a mail attachment shows file names to whoever looks)."""
    today = timezone.localdate(timezone.now(), clinic_zone())
    return f"record-{record['record_number']}-{today.isoformat()}.{file_format}"


def as_json(record: dict) -> bytes:
    return json.dumps(record, indent=2, ensure_ascii=False).encode()


def as_html(record: dict) -> str:
    """The page the PDF is printed from."""
    demographics = record.get("demographics") or {}
    context = {
        "record": record,
        "blocks": present(record),
        "clinic_name": record["clinic"],
        "patient_name": " ".join(
            filter(
                None, (demographics.get("legal_first_name"), demographics.get("legal_last_name"))
            )
        ),
        "generated_at": _generated_at(),
        "time_zone": settings.CLINIC_TIME_ZONE,
    }
    return render_to_string("patients/record_pdf.html", context)


def _generated_at() -> str:
    with timezone.override(clinic_zone()):
        return when.day_and_time(timezone.now())


def as_pdf(record: dict) -> bytes:
    return printouts.pdf(as_html(record), STYLESHEET)


def render(record: dict, file_format: str) -> RecordFile:
    content = as_pdf(record) if file_format == FileFormat.PDF else as_json(record)
    return RecordFile(
        name=filename(record, file_format),
        content_type=CONTENT_TYPES[FileFormat(file_format)],
        content=content,
    )


def download(made: RecordFile) -> HttpResponse:
    """A record file as a download (never shown in the browser's tab, never cached)."""
    response = HttpResponse(made.content, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.name}"'
    response["Cache-Control"] = "no-store"
    return response

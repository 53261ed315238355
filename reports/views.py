"""The reports' pages: the list, each report (filters, chart and table) and its CSV file. For
administrators and doctors; the numbers are counts, never a patient's row."""

import csv

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from goodskin.roles import Role, role_required

from .catalogue import PERCENT, REPORTS, Definition
from .forms import ReportForm
from .period import default_dates

report_readers = role_required(Role.ADMIN, Role.DOCTOR)


def _form(request: HttpRequest) -> ReportForm:
    """The filters from the address; the last 12 weeks when it names no dates."""
    data = request.GET.copy()
    first, last = default_dates()
    data.setdefault("first_day", first.isoformat())
    data.setdefault("last_day", last.isoformat())
    return ReportForm(data)


def _definition(slug: str) -> Definition:
    if slug not in REPORTS:
        raise Http404
    return REPORTS[slug]


def _query(form: ReportForm) -> str:
    """The chosen filters as an address' query, for the links to the other reports."""
    if not form.is_valid():
        return ""
    return form.data.urlencode()


@report_readers
def index(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    return render(
        request,
        "reports/index.html",
        {"form": form, "reports": REPORTS.values(), "query": _query(form)},
    )


@report_readers
def report(request: HttpRequest, slug: str) -> HttpResponse:
    definition = _definition(slug)
    form = _form(request)
    result = definition.build(form.period()) if form.is_valid() else None
    return render(
        request,
        "reports/report.html",
        {
            "definition": definition,
            "form": form,
            "report": result,
            "reports": REPORTS.values(),
            "query": _query(form),
            "PERCENT": PERCENT,
        },
    )


def plain(value) -> str:
    """A number as a spreadsheet reads it: no thousands separator, a point for decimals."""
    return "" if value is None else str(value)


@report_readers
def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    definition = _definition(slug)
    form = _form(request)
    if not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    period = form.period()
    result = definition.build(period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"{slug}-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow([result.first_column, *(column.label for column in result.columns)])
    for row in [*result.rows, result.total]:
        label = _("Whole period") if row is result.total else row.key
        writer.writerow([label, *(plain(value) for value in row.values)])
    return response

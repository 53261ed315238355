"""Sheets a person prints or downloads as a PDF (the record, the aftercare sheet, a plan's
treatment summary): one template rendered to HTML, printed by WeasyPrint with the system's
fonts, fetching nothing. Each app keeps its own templates; this only prints them."""

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

# Every printout's stylesheet: a file of its own, not a <style> in the page (templates carry
# no inline style, tests/goodskin/test_content_security_policy.py), and not a static file:
# only the PDFs use it.
STYLESHEET = "patients/printout.css"


def no_fetch(url: str, *args, **kwargs):
    """A PDF uses the system's fonts and nothing else: no address is ever fetched."""
    raise ValueError(f"A printout fetches nothing ({url}).")


def page_numbers() -> str:
    """The footer's "Page 2 of 5" in the reader's language, as CSS generated content."""
    words = _("Page %(page)s of %(pages)s").replace("\\", "").replace('"', "")
    words = words % {"page": '" counter(page) "', "pages": '" counter(pages) "'}
    return '@page { @bottom-right { content: "' + words + '"; } }'


def pdf(html: str, *stylesheets: str) -> bytes:
    """`html` printed to PDF with the stylesheet templates named (their CSS rendered as
    templates, so they may be translated) and the page numbers."""
    import weasyprint  # loads pango and cairo: only when a PDF is asked for

    sheets = [
        weasyprint.CSS(string=render_to_string(name), url_fetcher=no_fetch) for name in stylesheets
    ]
    sheets.append(weasyprint.CSS(string=page_numbers(), url_fetcher=no_fetch))
    return weasyprint.HTML(string=html, url_fetcher=no_fetch).write_pdf(stylesheets=sheets)


def pdf_download(content: bytes, name: str) -> HttpResponse:
    """A PDF shown in the browser's tab (to print or save), never cached: it holds patient
    data. `name` is what "save" offers, with no patient's name in it."""
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response

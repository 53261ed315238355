"""Form fields and parsers every app shares for what people type or put in a link: dates within
sensible years, page versions, names without hidden characters, notes of a bounded length.

Why bounds: a date such as 0001-01-01 or 9999-12-31 is a valid `date`, but one day or one time
zone away from it Python overflows (a 500); a note of a million characters is a mistake or an
attack, not a note."""

import uuid
from datetime import date, timedelta

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from goodskin import when

# Any date a record may hold (birth dates, clinical dates): a wider range is a typing mistake.
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
# Appointments, free-time searches and time off: a window around today. Past days stay open
# (a visit is moved or looked up after the fact), the far future is a typing mistake.
SCHEDULE_DAYS_BACK = 366 * 2
SCHEDULE_DAYS_AHEAD = 366 * 2
# The day and week pages may be browsed further: a patient's history goes back years.
BROWSE_DAYS = 366 * 20
# The largest version a page may carry: PostgreSQL's integer.
VERSION_MAX = 2**31 - 1
# A free-text field that took no limit from its model (a TextField) gets this one.
TEXT_MAX = 5000

# Characters that change how the text around them is shown (right-to-left override,
# embedding, isolates, direction marks): in a name they can make "Ann" look like anything.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def schedule_window(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=SCHEDULE_DAYS_BACK), today + timedelta(days=SCHEDULE_DAYS_AHEAD)


def browse_window(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=BROWSE_DAYS), today + timedelta(days=BROWSE_DAYS)


def record_window() -> tuple[date, date]:
    return EARLIEST, LATEST


def birth_window() -> tuple[date, date]:
    return EARLIEST, timezone.localdate()


class BoundedDateField(forms.DateField):
    """A date between two limits (a function of today, so the window moves with the clock)."""

    default_error_messages = {
        "too_early": _("Check the year: give a date on or after %(earliest)s."),
        "too_late": _("Check the year: give a date on or before %(latest)s."),
    }

    def __init__(self, *, window=record_window, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d", "%m/%d/%Y"])
        super().__init__(**kwargs)
        self.window = window

    def validate(self, value):
        super().validate(value)
        if value in self.empty_values:
            return
        earliest, latest = self.window()
        params = {
            "earliest": when.birthday(earliest),
            "latest": when.birthday(latest),
        }
        if value < earliest:
            raise forms.ValidationError(
                self.error_messages["too_early"], code="too_early", params=params
            )
        if value > latest:
            raise forms.ValidationError(
                self.error_messages["too_late"], code="too_late", params=params
            )


def schedule_date_field(**kwargs) -> BoundedDateField:
    return BoundedDateField(window=schedule_window, **kwargs)


def date_param(value: str | None, *, default: date, window=browse_window) -> date:
    """A date from a link (?date=YYYY-MM-DD): `default` when missing, malformed or outside the
    window, never an error page."""
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return default
    earliest, latest = window()
    return day if earliest <= day <= latest else default


class VersionField(forms.IntegerField):
    """The version of a record the person saw, carried by the page: anything but a plausible
    version is refused (a missing or damaged one must not skip the check for someone else's
    change)."""

    widget = forms.HiddenInput
    default_error_messages = {
        "required": _("This page is out of date. Open it again and repeat your change."),
        "invalid": _("This page is out of date. Open it again and repeat your change."),
        "min_value": _("This page is out of date. Open it again and repeat your change."),
        "max_value": _("This page is out of date. Open it again and repeat your change."),
    }

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=VERSION_MAX, **kwargs)

    def to_python(self, value):
        # int("1e9") fails anyway; the strip keeps " 3" from meaning something else.
        if isinstance(value, str) and value.strip() != value:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def version_error_for_the_page(form: forms.BaseForm) -> None:
    """A hidden version field's error is shown with the form's own errors: the person can't
    see or fix the field, only open the page again."""
    if errors := form.errors.pop("version", None):
        form.add_error(None, errors)


def refuse_hidden_characters(value: str) -> None:
    """Names: no control characters (tabs, NUL, line breaks) and no text-direction controls."""
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in BIDI_CONTROLS for c in value):
        raise forms.ValidationError(
            _("Use letters, spaces and punctuation only: this has a hidden control character."),
            code="hidden_character",
        )


def limit_text(form: forms.BaseForm, *, limit: int = TEXT_MAX) -> None:
    """Give every text field of `form` that has no length limit (a model TextField) one."""
    for field in form.fields.values():
        # Plain text only: a UUID, email or URL field is a CharField with its own rules.
        if type(field) is forms.CharField and field.max_length is None:
            field.max_length = limit
            field.validators.append(MaxLengthValidator(limit))
            field.widget.attrs["maxlength"] = str(limit)


class TokenMixin(forms.Form):
    """A token per opened form, unique in the table it saves to: a second post of the same form
    (a double click, a browser resend) is recognised, not saved twice."""

    form_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("form_token", uuid.uuid4())

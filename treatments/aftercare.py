"""The aftercare texts are templates: every number they speak of (days of support hose, days
without heavy exercise, minutes of walking, weeks to the next session) is a placeholder such as
`{hose_period}`, filled when the text is shown or sent, from the plan's own numbers where the
plan has them (hose days, interval) and from the clinic settings otherwise.

Placeholders are replaced by a plain search for `{name}` (never `str.format`, which would let
an administrator's text reach into Python objects). The admin refuses a text with an unknown
placeholder; a text that got past it anyway (edited in the database) falls back to the seeded
text of its step when it is sent, and the mistake is logged.
"""

import logging
import re
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_noop, ngettext
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

# `{` and `}` around anything but braces: a placeholder, known or not.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

# The placeholders a text may use, with what each stands for (shown in the admin).
PLACEHOLDERS = {
    "hose_days": _("days of support hose after the session, as a number (14)"),
    "hose_period": _("the same with its unit (14 days)"),
    "rest_days": _(
        "days after the session day with no heavy exercise, hot baths, sun or long flights (3)"
    ),
    "rest_period": _("the same with its unit (3 days)"),
    "walk_minutes_min": _("fewest minutes of walking right after the session (15)"),
    "walk_minutes_max": _("most minutes of walking right after the session (20)"),
    "walk_time": _("the walk with its unit (15 to 20 minutes)"),
    "normal_activity_hours": _("hours until normal activities again (24)"),
    "normal_activity_period": _("the same with its unit (24 hours)"),
    "interval_weeks": _("weeks between sessions on the same area (4)"),
    "interval_period": _("the same with its unit (4 weeks)"),
}


@dataclass(frozen=True)
class AftercareNumbers:
    """The numbers one patient's aftercare speaks of."""

    hose_days: int
    interval_weeks: int
    rest_days: int
    walk_minutes_min: int
    walk_minutes_max: int
    normal_activity_hours: int

    @classmethod
    def of(cls, clinic, plan=None) -> "AftercareNumbers":
        """The plan's hose days and interval where there is a plan, the clinic's otherwise;
        the rest is the clinic's."""
        return cls(
            hose_days=plan.hose_days if plan is not None else clinic.hose_days,
            interval_weeks=plan.interval_weeks if plan is not None else clinic.interval_weeks,
            rest_days=clinic.rest_days,
            walk_minutes_min=clinic.walk_minutes_min,
            walk_minutes_max=clinic.walk_minutes_max,
            normal_activity_hours=clinic.normal_activity_hours,
        )

    def values(self) -> dict[str, str]:
        """{placeholder: its text}, in the active language."""
        return {
            "hose_days": str(self.hose_days),
            "hose_period": ngettext("%(n)d day", "%(n)d days", self.hose_days)
            % {"n": self.hose_days},
            "rest_days": str(self.rest_days),
            "rest_period": ngettext("%(n)d day", "%(n)d days", self.rest_days)
            % {"n": self.rest_days},
            "walk_minutes_min": str(self.walk_minutes_min),
            "walk_minutes_max": str(self.walk_minutes_max),
            "walk_time": self.walk_time,
            "normal_activity_hours": str(self.normal_activity_hours),
            "normal_activity_period": ngettext(
                "%(n)d hour", "%(n)d hours", self.normal_activity_hours
            )
            % {"n": self.normal_activity_hours},
            "interval_weeks": str(self.interval_weeks),
            "interval_period": ngettext("%(n)d week", "%(n)d weeks", self.interval_weeks)
            % {"n": self.interval_weeks},
        }

    @property
    def walk_time(self) -> str:
        low, high = self.walk_minutes_min, self.walk_minutes_max
        if low == high:
            return ngettext("%(n)d minute", "%(n)d minutes", high) % {"n": high}
        return gettext("%(low)d to %(high)d minutes") % {"low": low, "high": high}


class TemplateError(ValueError):
    """A text with a placeholder no one knows, or a brace that opens no placeholder."""


def problems(text: str) -> list[str]:
    """What is wrong with a text's placeholders, in words for the administrator ([] if
    nothing)."""
    found = []
    unknown = [name for name in PLACEHOLDER.findall(text or "") if name not in PLACEHOLDERS]
    for name in dict.fromkeys(unknown):
        found.append(
            gettext("“{%(name)s}” is not a placeholder the clinic knows.") % {"name": name}
        )
    rest = PLACEHOLDER.sub("", text or "")
    if "{" in rest or "}" in rest:
        found.append(
            gettext("Use { and } only around a placeholder's name, such as {hose_period}.")
        )
    return found


def fill(text: str, numbers: AftercareNumbers) -> str:
    """The text with its placeholders filled; TemplateError if it has a wrong one."""
    wrong = problems(text)
    if wrong:
        raise TemplateError(" ".join(str(w) for w in wrong))
    values = numbers.values()
    return PLACEHOLDER.sub(lambda match: values[match[1]], text or "")


# The texts of the seeded programme (migration 0012 wrote them): what a step whose text is
# broken says instead. Marked for translation: a step whose text is still the seeded one is
# sent in the patient's language; a text the clinic wrote itself is sent as it wrote it.
SEEDED = {
    "checkout": {
        "title": gettext_noop("Right after your session"),
        "email_subject": gettext_noop("After your sclerotherapy session today"),
        "email_body": gettext_noop(
            "Keep your support hose on day and night for the next {hose_period}.\n"
            "Walk for {walk_time} now: walking right after the session helps.\n"
            "You can go back to your normal daily activities within {normal_activity_period}.\n"
            "Today and for the next {rest_period}: no hot baths, hot tubs or sauna, no "
            "sunbathing on the treated legs, no heavy exercise and no long flights. Showers and "
            "walking are fine.\n"
            "Redness and some bruising are normal. Treated veins can turn brown for a while as "
            "your body absorbs them; this fades."
        ),
        "sms_text": gettext_noop(
            "Goodskin: keep your support hose on for {hose_period}, walk {walk_time} now, "
            "normal activity within {normal_activity_period}. Today and the next {rest_period}: "
            "no hot baths, sauna, sun on your legs, heavy exercise or long flights."
        ),
    },
    "days-0-3": {
        "title": gettext_noop("The first days"),
        "email_subject": gettext_noop("The first days after your session"),
        "email_body": gettext_noop(
            "Today and for the next {rest_period}: no hot baths, hot tubs or sauna, no "
            "sunbathing on the treated legs, no heavy exercise and no long flights. Showers and "
            "walking are fine."
        ),
        "sms_text": gettext_noop(
            "Goodskin: today and the next {rest_period}, no hot baths, sauna, sun on your legs, "
            "heavy exercise or long flights. Walking is good."
        ),
    },
    "rest-end": {
        "title": gettext_noop("Back to exercise"),
        "email_subject": gettext_noop("You can go back to exercise"),
        "email_body": gettext_noop(
            "From today you can go back to heavy exercise, hot baths, hot tubs and sauna, sun "
            "on your legs and long flights. If your support-hose period is not over yet, keep "
            "wearing them until it is. Keep walking every day."
        ),
        "sms_text": gettext_noop(
            "Goodskin: from today you can exercise again, and take hot baths, sun and long "
            "flights. Keep walking every day."
        ),
    },
    "hose-end": {
        "title": gettext_noop("When the support-hose period ends"),
        "email_subject": gettext_noop("You can stop wearing your support hose"),
        "email_body": gettext_noop(
            "Your {hose_period} of support hose are over: from today you can stop wearing "
            "them. Keep walking every day."
        ),
        "sms_text": gettext_noop(
            "Goodskin: your {hose_period} of support hose are over; from today you can stop "
            "wearing them."
        ),
    },
    "book-next": {
        "title": gettext_noop("Book your next session"),
        "email_subject": gettext_noop("Time to book your next session"),
        "email_body": gettext_noop(
            "It has been {interval_period} since your session: your next sclerotherapy session "
            "can take place from now on. Call the clinic or book online to choose a time."
        ),
        "sms_text": gettext_noop(
            "Goodskin: {interval_period} since your session, your next one can be booked now. "
            "Call us or book online."
        ),
    },
}

TEXT_FIELDS = ("title", "email_subject", "email_body", "sms_text")
SEEDED_TEXTS = {text for texts in SEEDED.values() for text in texts.values()}


def in_language(text: str) -> str:
    """A seeded text in the active language; a text the clinic wrote, as it is."""
    return gettext(text) if text in SEEDED_TEXTS else text


@dataclass(frozen=True)
class StepTexts:
    title: str
    email_subject: str
    email_body: str
    sms_text: str


def step_texts(step, numbers: AftercareNumbers) -> StepTexts:
    """A step's texts with the numbers filled in. A text with a wrong placeholder (put in
    the database past the admin's check) is replaced by its seeded text and logged; a step
    with no seeded text to fall back on raises TemplateError (the message fails with that
    reason, for staff to see, and the sender goes on with the next)."""
    filled = {}
    for name in TEXT_FIELDS:
        text = in_language(getattr(step, name))
        try:
            filled[name] = fill(text, numbers)
        except TemplateError as error:
            seeded = SEEDED.get(step.key, {}).get(name)
            log.error("aftercare step %r, %s: %s", step.key, name, error)
            if seeded is None:
                raise TemplateError(f"aftercare step {step.key!r}, {name}: {error}") from error
            filled[name] = fill(in_language(seeded), numbers)
    return StepTexts(**filled)

"""Scheduling's use cases that write, one module per use case; the public names are here, so
`from scheduling import services; services.book_series(...)` reads as before."""

from .booking import book_appointment
from .changes import (
    TRANSITIONS,
    LaterSessionsTooClose,
    cancel_appointment,
    move_appointment,
    sessions_too_close_after,
    set_status,
)
from .common import (
    BookingError,
    Refused,
    SlotTaken,
    default_location,
    every_location,
    first_location,
    minutes_for,
    scheduling_settings,
)
from .patient_booking import (
    NextSession,
    patient_book_options,
    patient_book_session,
    patient_next_session,
)
from .patient_changes import (
    patient_cancel,
    patient_may_change,
    patient_move,
    patient_move_options,
    patient_undo_cancel,
    undo_deadline,
)
from .series import Proposal, book_series, plan_office, propose_series, remaining_sessions
from .time_off import TimeOffAlreadySaved, add_time_off

__all__ = [
    "TRANSITIONS",
    "BookingError",
    "LaterSessionsTooClose",
    "NextSession",
    "Proposal",
    "Refused",
    "SlotTaken",
    "TimeOffAlreadySaved",
    "add_time_off",
    "book_appointment",
    "book_series",
    "cancel_appointment",
    "default_location",
    "every_location",
    "first_location",
    "minutes_for",
    "move_appointment",
    "patient_book_options",
    "patient_book_session",
    "patient_cancel",
    "patient_may_change",
    "patient_move",
    "patient_move_options",
    "patient_next_session",
    "patient_undo_cancel",
    "plan_office",
    "propose_series",
    "remaining_sessions",
    "scheduling_settings",
    "sessions_too_close_after",
    "set_status",
    "undo_deadline",
]

"""Pure availability computation: plain typed data in, free slots out. No Django import here.

recurrence.py  wall-clock recurrences (Europe/Paris) expanded to UTC instants
slots.py       free intervals and the cutting of slots
"""

from rdv.availability.recurrence import Recurrence, RecurringEvent, expand, local_day_interval
from rdv.availability.slots import (
    BookingWindow,
    Interval,
    Opening,
    Slot,
    booking_window,
    compute_slots,
    free_intervals,
)

__all__ = [
    "BookingWindow",
    "Interval",
    "Opening",
    "Recurrence",
    "RecurringEvent",
    "Slot",
    "booking_window",
    "compute_slots",
    "expand",
    "free_intervals",
    "local_day_interval",
]

"""Signals other apps listen to, so that complaints does not import them."""

from django.dispatch import Signal

# Sent after the intake transaction committed, with `complaint` (the new Complaint).
complaint_registered = Signal()

"""Signals other apps listen to, so that complaints does not import them."""

from django.dispatch import Signal

# Sent after the intake transaction committed, with `complaint` (the new Complaint).
complaint_registered = Signal()

# Sent by the desk's registration form after the complaint was registered, with `complaint`, `user` and
# `data` (the form's POST): triage compares what it suggested with what was chosen.
registration_form_submitted = Signal()

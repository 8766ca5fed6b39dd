"""The one page a refused complaint form is shown again on (postponements, disputes, repeats)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django import forms
from django.contrib.auth.models import User
from django.test import RequestFactory

from closeloop.complaints.models import Complaint
from closeloop.core.errors import DomainError, PermissionDeniedError
from closeloop.core.forms_ui import form_page_refused

pytestmark = pytest.mark.django_db


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False)


@pytest.mark.parametrize(
    ("exc", "status"),
    [(DomainError("Give a reason.", field="reason"), 422), (PermissionDeniedError("Your role may not."), 403)],
)
def test_the_error_is_on_the_page_with_what_was_typed(
    exc: DomainError, status: int, make_complaint: Callable[..., Complaint], agent: User
) -> None:
    complaint = make_complaint()
    request = RequestFactory().post("/desk/h/x/", {"reason": "typed before"})
    request.user = agent
    form = ReasonForm(request.POST)
    assert form.is_valid()
    response = form_page_refused(request, complaint=complaint, form=form, exc=exc, title="Do it")
    page = response.content.decode()
    assert response.status_code == status
    assert str(exc.message) in page and "typed before" in page
    assert 'action="/desk/h/x/"' in page and f"/desk/c/{complaint.number}/" in page


def test_an_invalid_form_alone_is_a_422(make_complaint: Callable[..., Complaint], agent: User) -> None:
    request = RequestFactory().post("/desk/h/x/", {})
    request.user = agent
    form = forms.Form(request.POST)
    form.is_valid()
    assert form_page_refused(request, complaint=make_complaint(), form=form, exc=None, title="T").status_code == 422

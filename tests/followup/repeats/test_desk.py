"""The repeats panel on the complaint page and its forms: same services as the API; a refused form
comes back with its message on the field and what was typed."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint
from closeloop.followup.services.repeats import complaint_merge
from tests.followup.repeats.conftest import T0

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _detail(client: Client, number: str) -> str:
    return _get(client, reverse("desk:detail", args=[number]))


def test_intake_repeat_is_shown_with_its_reason_and_link(complaint_at, resolve, product, agent):
    earlier = resolve(complaint_at(T0, product_model=product.model), at=T0 + DAY)
    new = complaint_at(T0 + 13 * DAY, product_model=product.model)
    client = _client(agent)

    page = _detail(client, new.number)
    assert f"Repeat of {earlier.number}" in page
    assert f'href="{reverse("desk:detail", args=[earlier.number])}"' in page
    assert "resolved 12 days earlier" in page
    assert "Repeat complaint detected" in page

    earlier_page = _detail(client, earlier.number)
    assert "Repeated by" in earlier_page and new.number in earlier_page


def test_agent_links_and_unlinks_from_the_page(complaint_at, agent):
    first, second = complaint_at(T0), complaint_at(T0 + 20 * DAY)
    client = _client(agent)

    response = client.post(
        f"/desk/f/repeats/{second.number}/link/",
        {"repeat-link-earlier": first.number.lower(), "repeat-link-reason": "same lamp, new phone"},
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.repeat_of == first and second.repeat_reason == "same lamp, new phone"

    response = client.post(f"/desk/f/repeats/{second.number}/unlink/", {"repeat-unlink-reason": "another fault"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.repeat_of is None
    assert "No longer a repeat complaint" in _detail(client, second.number)


def test_a_refused_link_keeps_what_was_typed(complaint_at, agent):
    first, second = complaint_at(T0), complaint_at(T0 + 20 * DAY)
    response = _client(agent).post(
        f"/desk/f/repeats/{first.number}/link/",
        {"repeat-link-earlier": second.number, "repeat-link-reason": "typed reason"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "was received after this complaint" in page
    assert "typed reason" in page and second.number in page
    assert Complaint.objects.get(pk=first.pk).repeat_of is None


def test_missing_reason_is_a_field_error(complaint_at, agent):
    first, second = complaint_at(T0), complaint_at(T0 + 20 * DAY)
    response = _client(agent).post(
        f"/desk/f/repeats/{second.number}/link/", {"repeat-link-earlier": first.number, "repeat-link-reason": ""}
    )
    assert response.status_code == 422
    assert "Give a reason." in response.content.decode()


def test_an_out_of_scope_number_is_a_field_error_for_a_handler(make_complaint, handler, other_department):
    mine = make_complaint(received_at=T0, now=T0, phone="13900000011")  # quality: the handler's department
    theirs = make_complaint(received_at=T0, now=T0, phone="13900000011", department_code=other_department.code)
    response = _client(handler).post(
        f"/desk/f/repeats/{mine.number}/link/", {"repeat-link-earlier": theirs.number, "repeat-link-reason": "same"}
    )
    assert response.status_code == 422
    assert "There is no complaint with this number." in response.content.decode()
    # And their complaint's own page is a 404 for the handler.
    assert (
        _client(handler).post(f"/desk/f/repeats/{theirs.number}/unlink/", {"repeat-unlink-reason": "x"}).status_code
        == 404
    )


def test_a_handler_sees_no_forms_and_may_not_link(complaint_at, make_complaint, handler):
    first, second = complaint_at(T0), complaint_at(T0 + 20 * DAY)
    client = _client(handler)
    page = _detail(client, second.number)
    assert "Merge another complaint into this one" not in page
    response = client.post(
        f"/desk/f/repeats/{second.number}/link/", {"repeat-link-earlier": first.number, "repeat-link-reason": "same"}
    )
    assert response.status_code == 403


def test_merge_from_the_page_shows_both_histories(complaint_at, agent):
    into = complaint_at(T0)
    duplicate = complaint_at(T0 + datetime.timedelta(hours=1), channel="web")
    client = _client(agent)

    response = client.post(
        f"/desk/f/repeats/{into.number}/merge/", {"merge-duplicate": duplicate.number, "merge-reason": "same call"}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.status == Status.DUPLICATE and duplicate.duplicate_of == into

    page = _detail(client, into.number)
    assert "Duplicate merged into this complaint" in page
    assert "Merged into another complaint" in page  # the duplicate's own event, on the target's timeline
    assert f'class="number merged-from" href="{reverse("desk:detail", args=[duplicate.number])}"' in page
    assert page.count(duplicate.number) >= 3


def test_merging_into_itself_is_refused_on_the_field(complaint_at, agent):
    into = complaint_at(T0)
    response = _client(agent).post(
        f"/desk/f/repeats/{into.number}/merge/", {"merge-duplicate": into.number, "merge-reason": "same"}
    )
    assert response.status_code == 422
    assert "cannot be merged into itself" in response.content.decode()


def test_the_panel_lists_the_duplicates_attachments(complaint_at, agent):
    import io

    from closeloop.complaints.services import AttachmentUpload, complaint_attach

    into = complaint_at(T0)
    duplicate = complaint_at(T0 + datetime.timedelta(hours=1))
    upload = AttachmentUpload(name="receipt.txt", file=io.BytesIO(b"receipt of the lamp"), size=19, kind="other")
    attachment = complaint_attach(complaint=duplicate, upload=upload, actor=agent, via="desk")
    complaint_merge(duplicate=duplicate, into=into, reason="same", actor=agent, via="desk")

    page = _detail(_client(agent), into.number)
    assert "receipt.txt" in page
    assert reverse("desk:attachment", args=[duplicate.number, attachment.pk]) in page


def test_the_queue_shows_a_repeat_badge(complaint_at, resolve, product, agent):
    resolve(complaint_at(T0, product_model=product.model), at=T0 + DAY)
    complaint_at(T0 + 3 * DAY, product_model=product.model)
    page = _get(_client(agent), reverse("desk:queue"))
    assert 'class="badge repeat"' in page

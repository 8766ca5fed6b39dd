"""REST: repeat-link, repeat-unlink and merge answer with the complaint (repeat_of, repeat_reason and
the timeline with the merged duplicate's events, each naming its complaint)."""

from __future__ import annotations

import datetime

import pytest

from closeloop.complaints.lifecycle import Status
from closeloop.complaints.models import Complaint
from tests.followup.repeats.conftest import T0

DAY = datetime.timedelta(days=1)
pytestmark = pytest.mark.django_db


def _url(number: str, what: str) -> str:
    return f"/api/v1/complaints/{number}/{what}"


def test_detail_shows_an_intake_repeat(complaint_at, resolve, product, agent, api_for):
    earlier = resolve(complaint_at(T0, product_model=product.model), at=T0 + DAY)
    new = complaint_at(T0 + 13 * DAY, product_model=product.model)

    body = api_for(agent).get(f"/api/v1/complaints/{new.number}").json()

    assert body["repeat_of"] == earlier.number
    assert body["repeat_reason"].endswith("resolved 12 days earlier")
    assert [e["action"] for e in body["events"]] == ["registered", "repeat_detected"]
    assert all(e["complaint"] is None for e in body["events"])


def test_link_and_unlink(complaint_at, agent, supervisor, api_for):
    first, second = complaint_at(T0), complaint_at(T0 + 20 * DAY)

    response = api_for(agent).post_json(_url(second.number, "repeat-link"), {"earlier": first.number, "reason": "same"})
    assert response.status_code == 200, response.content
    assert (response.json()["repeat_of"], response.json()["repeat_reason"]) == (first.number, "same")

    response = api_for(supervisor).post_json(_url(second.number, "repeat-unlink"), {"reason": "not the same"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["repeat_of"] is None
    assert [e["action"] for e in body["events"]][-2:] == ["repeat_linked", "repeat_unlinked"]
    assert body["events"][-1]["note"] == "not the same"


@pytest.mark.parametrize(
    ("path", "earlier", "reason", "field"),
    [
        ("first", "first", "same", "earlier"),  # itself
        ("first", "second", "same", "earlier"),  # a later complaint
        ("second", "TS20000101-9999", "same", "earlier"),  # no such complaint
        ("second", "", "same", "earlier"),
        ("second", "first", "  ", "reason"),
    ],
)
def test_link_refusals_name_the_field(complaint_at, agent, api_for, path, earlier, reason, field):
    complaints = {"first": complaint_at(T0), "second": complaint_at(T0 + 20 * DAY)}
    number = complaints[path].number
    earlier = complaints[earlier].number if earlier in complaints else earlier

    response = api_for(agent).post_json(_url(number, "repeat-link"), {"earlier": earlier, "reason": reason})

    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert all(c.repeat_of_id is None for c in Complaint.objects.all())


def test_wrong_role_is_403_and_out_of_scope_is_404(make_complaint, handler, auditor, other_department, api_for):
    mine = make_complaint(received_at=T0, now=T0, phone="13900000021")
    theirs = make_complaint(
        received_at=T0 + DAY, now=T0 + DAY, phone="13900000021", department_code=other_department.code
    )
    handler_api = api_for(handler)

    # Their complaint in the body: a field error, not a hint that it exists.
    response = handler_api.post_json(_url(mine.number, "repeat-link"), {"earlier": theirs.number, "reason": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "earlier"]
    # Their complaint in the path: 404.
    assert handler_api.post_json(_url(theirs.number, "repeat-unlink"), {"reason": "x"}).status_code == 404
    # A visible complaint, but not the role: 403.
    later = make_complaint(received_at=T0 + 2 * DAY, now=T0 + 2 * DAY, phone="13900000021")
    response = handler_api.post_json(_url(later.number, "repeat-link"), {"earlier": mine.number, "reason": "x"})
    assert response.status_code == 403
    assert api_for(auditor).post_json(_url(later.number, "repeat-unlink"), {"reason": "x"}).status_code == 403


def test_merge_keeps_both_histories(complaint_at, agent, api_for):
    into = complaint_at(T0)
    duplicate = complaint_at(T0 + datetime.timedelta(hours=1), channel="web")
    client = api_for(agent)

    response = client.post_json(_url(into.number, "merge"), {"duplicate": duplicate.number, "reason": "same call"})

    assert response.status_code == 200, response.content
    events = response.json()["events"]
    theirs = [e for e in events if e["complaint"] == duplicate.number]
    ours = [e for e in events if e["complaint"] is None]
    assert [e["action"] for e in theirs] == ["registered", "mark_duplicate", "merged_into"]
    assert [e["action"] for e in ours] == ["registered", "merged"]
    assert ours[-1]["after"] == {"duplicate": duplicate.number}

    dup = client.get(f"/api/v1/complaints/{duplicate.number}").json()
    assert dup["status"] == Status.DUPLICATE and dup["duplicate_of"] == into.number
    assert {e["complaint"] for e in dup["events"]} == {None}


def test_merge_into_itself_is_refused(complaint_at, agent, api_for):
    into = complaint_at(T0)
    response = api_for(agent).post_json(_url(into.number, "merge"), {"duplicate": into.number, "reason": "same"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "duplicate"]


def test_merge_of_a_resolved_complaint_is_refused(complaint_at, resolve, agent, api_for):
    into = complaint_at(T0)
    duplicate = resolve(complaint_at(T0 + datetime.timedelta(hours=1)), at=T0 + DAY)
    response = api_for(agent).post_json(_url(into.number, "merge"), {"duplicate": duplicate.number, "reason": "x"})
    assert response.status_code == 422
    assert "not yet dispatched" in response.json()["detail"][0]["msg"]

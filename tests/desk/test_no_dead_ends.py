"""No dead ends after a refused form (issue 17): a browser's refused POST is redirected to the page the
form was on, which shows it again — errors, summary and what was typed — and reloads safely; a language
switch comes back to it; an expired token shows the page itself. Programs (no Sec-Fetch-Mode) and htmx
get the refusal as before."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.complaints.models import Complaint
from closeloop.core.kept import SESSION_KEY
from tests.desk.test_register import form_data

pytestmark = pytest.mark.django_db

BROWSER = {"Sec-Fetch-Mode": "navigate", "Referer": "http://testserver/desk/new/"}


def test_a_refused_registration_redirects_to_an_address_that_reloads(agent_client: Client) -> None:
    response = agent_client.post("/desk/new/", form_data(customer_name="", description="灯不亮了"), headers=BROWSER)

    assert response.status_code == 303
    address = response["Location"]
    assert address.startswith("/desk/new/?kept=")
    assert not Complaint.objects.exists()
    for _reload in range(2):  # shown, and shown again on a reload
        page = agent_client.get(address)
        text = page.content.decode()
        assert page.status_code == 200  # as the registration form answered it
        assert "data-error-summary" in text and 'href="#id_customer_name"' in text
        assert "灯不亮了" in text  # what was typed
    # The language switch of the kept page comes back to it, not to the POST's address.
    assert f'name="next" value="{address.replace("&", "&amp;")}"' in text


def test_the_language_switch_and_an_expired_token_show_the_page_itself(agent_client: Client) -> None:
    address = agent_client.post("/desk/new/", form_data(customer_name=""), headers=BROWSER)["Location"]
    switched = agent_client.post("/i18n/setlang/", {"language": "zh-hans", "next": address})
    assert switched["Location"] == address
    page = agent_client.get(address, headers={"Accept-Language": "zh-hans"})
    # Drawn afresh in the other language (the browser's script fills in what was typed): never a 405.
    assert page.status_code == 200 and "登记" in page.content.decode()

    session = agent_client.session
    session[SESSION_KEY] = {}
    session.save()
    assert agent_client.get(address).status_code == 200  # the page itself, not "405"


def test_a_refused_complaint_action_comes_back_to_the_complaint(
    agent_client: Client, make_complaint: Callable[..., Complaint], agent: User
) -> None:
    complaint = make_complaint(actor=agent)
    page = f"/desk/c/{complaint.number}/"
    response = agent_client.post(
        f"{page}do/invalidate/", {"reason": ""}, headers={**BROWSER, "Referer": f"http://testserver{page}"}
    )
    assert response.status_code == 303 and response["Location"].startswith(f"{page}?kept=")
    shown = agent_client.get(response["Location"])
    assert shown.status_code == 422 and "data-error-summary" in shown.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "registered"


def test_programs_and_htmx_get_the_refusal_as_before(agent_client: Client) -> None:
    assert agent_client.post("/desk/new/", form_data(customer_name="")).status_code == 200
    htmx = agent_client.post("/desk/new/", form_data(customer_name=""), headers={**BROWSER, "HX-Request": "true"})
    assert htmx.status_code == 422


def test_a_referer_elsewhere_is_not_followed(agent_client: Client) -> None:
    response = agent_client.post(
        "/desk/new/", form_data(customer_name=""), headers={**BROWSER, "Referer": "https://evil.example/x"}
    )
    assert response["Location"].startswith("/desk/new/?kept=")

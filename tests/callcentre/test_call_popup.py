"""`/desk/new/?phone=…&external_ref=…&recording=…`: the registration form a CTI pop-up opens."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from closeloop.complaints.models import Complaint, PersonalDataAccess
from closeloop.core.roles import Role
from tests.desk.test_register import form_data

pytestmark = pytest.mark.django_db

RECORDING = "https://cti.example.com/rec/8841.wav"


def _value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, name
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def _popup(client: Client, **params: str) -> str:
    response = client.get("/desk/new/?" + urlencode(params))
    assert response.status_code == 200
    return response.content.decode()


def test_a_known_caller_is_filled_in_and_the_access_logged(
    agent_client: Client, agent: User, make_complaint: Callable[..., Complaint]
) -> None:
    make_complaint(
        phone="13812345678", customer_name="李娜", email="li.na@example.com", city="杭州", address="文三路1号"
    )

    page = _popup(agent_client, phone="+86 138-1234-5678", external_ref="CALL-8841", recording=RECORDING)

    assert _value(page, "customer_name") == "李娜"
    assert _value(page, "phone") == "13812345678"
    assert _value(page, "email") == "li.na@example.com"
    assert _value(page, "city") == "杭州市"  # stored by its official name
    assert _value(page, "external_ref") == "CALL-8841"
    assert _value(page, "recording_url") == RECORDING
    assert re.search(r'<option value="hotline" selected>', page)
    assert "Known caller: 李娜" in page
    access = PersonalDataAccess.objects.get(where="cti pop-up")
    assert (access.user, access.customer.name) == (agent, "李娜")


def test_an_unknown_number_is_kept_in_the_phone_field(agent_client: Client) -> None:
    page = _popup(agent_client, phone="021-6888 1234", external_ref="CALL-9", recording=RECORDING)

    assert _value(page, "phone") == "021-6888 1234"
    assert _value(page, "customer_name") == ""
    assert "No customer with this number yet" in page
    assert not PersonalDataAccess.objects.exists()


def test_a_malformed_number_is_kept_as_received(agent_client: Client) -> None:
    page = _popup(agent_client, phone="12ab", external_ref="CALL-10")

    assert _value(page, "phone") == "12ab"
    assert _value(page, "external_ref") == "CALL-10"
    assert "Known caller" not in page and "No customer" not in page


def test_without_parameters_the_form_is_as_before(agent_client: Client) -> None:
    page = _popup(agent_client)

    assert _value(page, "external_ref") == ""
    assert "data-call-notice" not in page


def test_a_role_that_sees_personal_data_masked_gets_only_the_number(
    make_user: Callable[..., User], client_for: Callable[[User], Client], make_complaint: Callable[..., Complaint]
) -> None:
    make_complaint(phone="13812345678", customer_name="李娜", email="li.na@example.com")
    clerk = make_user(Role.QUALITY, username="clerk")
    clerk.user_permissions.add(Permission.objects.get(codename="register_complaint"))

    page = _popup(client_for(clerk), phone="13812345678")

    assert _value(page, "phone") == "13812345678"
    assert _value(page, "customer_name") == "" and _value(page, "email") == ""
    assert not PersonalDataAccess.objects.exists()


def test_registered_from_the_popup_keeps_reference_and_recording(agent_client: Client) -> None:
    response = agent_client.post(
        "/desk/new/", form_data(external_ref="CALL-8841", recording_url=RECORDING), follow=True
    )

    complaint = Complaint.objects.get()
    assert (complaint.external_ref, complaint.recording_url) == ("CALL-8841", RECORDING)
    assert response.status_code == 200


def test_nothing_typed_is_lost_on_error(agent_client: Client) -> None:
    response = agent_client.post(
        "/desk/new/", form_data(description="", external_ref="CALL-8841", recording_url="javascript:alert(1)")
    )

    page = response.content.decode()
    assert not Complaint.objects.exists()
    assert _value(page, "external_ref") == "CALL-8841"
    assert _value(page, "recording_url") == "javascript:alert(1)"
    assert "must be a web address" in page
    assert _value(page, "customer_name") == "李娜"

"""No oracle on personal data: a role that sees a customer's phone as `139****4405` must not learn the
hidden digits by searching. Each test plays the attack — the digit before the known tail, tried with all
ten candidates — and counts what it recovers. The same attack by an agent (who sees the number anyway)
recovers every hidden digit: the proof that the attack works and would find a leak."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from closeloop.accounts.testing import verify_session
from closeloop.complaints.models import Complaint
from closeloop.core.masking import mask_address, mask_email, mask_phone
from closeloop.core.roles import Role
from closeloop.directory.models import Department
from tests.api.conftest import ApiClient
from tests.privacy.conftest import MASKED_ROLES

pytestmark = pytest.mark.django_db

DIGITS = "0123456789"
PHONE = "13912344405"
EMAIL = "zhang.wei@example.com"
ADDRESS = "广东省佛山市顺德区大良街道88号"
HIDDEN_DIGITS = 4  # 139****4405

Search = Callable[[str], frozenset[str]]


def desk_numbers(response: Any) -> frozenset[str]:
    assert response.status_code == 200, response.status_code
    return frozenset(re.findall(r'class="number" href="/desk/c/([^/]+)/"', response.content.decode()))


def desk_search(client: Client, param: str = "q") -> Search:
    return lambda term: desk_numbers(client.get("/desk/", {param: term}))


def api_search(client: ApiClient, param: str = "q") -> Search:
    def search(term: str) -> frozenset[str]:
        response = client.get("/api/v1/complaints", {param: term})
        assert response.status_code == 200, response.content
        return frozenset(item["number"] for item in response.json()["items"])

    return search


def recover_hidden_digits(search: Search, *, victim: str, known_tail: str, hidden: int) -> int:
    """Right to left: prepend each candidate digit to what is known and keep the one whose answer holds
    the victim's complaint. Returns how many hidden digits the searches gave away."""
    known, recovered = known_tail, 0
    for _position in range(hidden):
        answers = {digit: search(digit + known) for digit in DIGITS}
        hits = [digit for digit, numbers in answers.items() if victim in numbers]
        if len(hits) != 1:
            break
        known, recovered = hits[0] + known, recovered + 1
    return recovered


def answers_are_identical(search: Search, terms: list[str]) -> bool:
    return len({search(term) for term in terms}) == 1


@pytest.fixture
def victim(make_complaint: Callable[..., Complaint]) -> Complaint:
    """A customer every role in the test can see, among others whose numbers differ in the hidden digits."""
    for decoy in ("13900004405", "13987654405", "13800001111"):
        make_complaint(phone=decoy, customer_name="路人")
    return make_complaint(phone=PHONE, email=EMAIL, address=ADDRESS, customer_name="张伟")


@pytest.fixture
def masked_user(request: Any, make_user: Callable[..., User], department: Department) -> User:
    # A department manager sees its department's complaints; the victim's type (quality) goes there.
    return make_user(request.param, departments=[department], manager=True)


def test_the_attack_works_on_a_role_that_sees_the_number(
    victim: Complaint, agent: User, desk_client_for: Callable[[User], Client], api_client_for: Any
) -> None:
    for search in (desk_search(desk_client_for(agent)), api_search(api_client_for(agent))):
        recovered = recover_hidden_digits(search, victim=victim.number, known_tail=PHONE[-4:], hidden=HIDDEN_DIGITS)
        assert recovered == HIDDEN_DIGITS


@pytest.mark.parametrize("masked_user", MASKED_ROLES, indirect=True, ids=str)
def test_masked_role_recovers_no_digit_from_the_desk_or_the_api(
    victim: Complaint,
    masked_user: User,
    desk_client_for: Callable[[User], Client],
    api_client_for: Callable[[User], ApiClient],
) -> None:
    desk, api = desk_client_for(masked_user), api_client_for(masked_user)
    shown = desk.get(f"/desk/c/{victim.number}/").content.decode()
    assert mask_phone(PHONE) in shown and PHONE not in shown  # the premise: the number is masked
    searches = {
        "desk q": desk_search(desk),
        "desk product": desk_search(desk, "product"),
        "api q": api_search(api),
        "api product": api_search(api, "product"),
    }
    for name, search in searches.items():
        candidates = [digit + PHONE[-4:] for digit in DIGITS]
        assert answers_are_identical(search, candidates), name
        assert recover_hidden_digits(search, victim=victim.number, known_tail=PHONE[-4:], hidden=HIDDEN_DIGITS) == 0
        # Longer partial numbers and the visible prefix with guessed digits give nothing away either.
        assert answers_are_identical(search, [PHONE[:3] + digit for digit in DIGITS] + ["99999"]), name
        assert answers_are_identical(search, [PHONE[1:], PHONE[2:], "00000000"]), name


@pytest.mark.parametrize("masked_user", MASKED_ROLES, indirect=True, ids=str)
def test_masked_role_learns_nothing_of_a_hidden_email_or_address(
    victim: Complaint,
    masked_user: User,
    desk_client_for: Callable[[User], Client],
    api_client_for: Callable[[User], ApiClient],
) -> None:
    assert mask_email(EMAIL) == "z***@example.com" and mask_address(ADDRESS) == "广东省佛山市****"
    hidden_email = ["zhang", "zhang.wei", "wei@example.com", "zhang.wei@", "ei@example.com", "g.wei@example"]
    hidden_address = ["大良", "大良街道", "88号", "顺德区大良"]
    control = ["zzzzz", "无关的词"]
    for search in (desk_search(desk_client_for(masked_user)), api_search(api_client_for(masked_user))):
        assert answers_are_identical(search, hidden_email + hidden_address + control)


def test_customer_lookup_gives_a_masked_registrar_nothing(
    victim: Complaint, make_user: Callable[..., User], desk_client_for: Callable[[User], Client]
) -> None:
    """A role configured to register complaints without seeing personal data (none of the defaults is):
    the lookup by phone prefix would otherwise reveal the hidden digits left to right."""
    group = Group.objects.create(name="registrar_masked")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="complaints", codename__in=["register_complaint", "view_complaint"]
        )
    )
    user = make_user(Role.AUDITOR)
    user.groups.add(group)
    client = desk_client_for(user)

    def lookup(prefix: str) -> frozenset[str]:
        response = client.get("/desk/lookup/customers", {"phone": prefix})
        assert response.status_code == 200
        return frozenset(re.findall(r"<span>([^<]*)</span>", response.content.decode()))

    assert answers_are_identical(lookup, [PHONE[:3] + digit for digit in DIGITS])
    assert answers_are_identical(lookup, [PHONE[:6] + digit for digit in DIGITS])
    assert answers_are_identical(lookup, [PHONE, "13000000000"])  # not even the full number
    email_answers = {
        client.get("/desk/lookup/customers", {"email": email}).content for email in (EMAIL, "x@example.com")
    }
    assert len(email_answers) == 1


@pytest.mark.parametrize("role", MASKED_ROLES, ids=str)
def test_default_masked_roles_may_not_use_the_customer_lookup(
    victim: Complaint, role: Role, make_user: Callable[..., User], desk_client_for: Callable[[User], Client]
) -> None:
    client = desk_client_for(make_user(role))
    statuses = {client.get("/desk/lookup/customers", {"phone": PHONE[:3] + d}).status_code for d in DIGITS}
    assert statuses == {403}


def test_the_customer_admin_is_closed_to_staff_without_the_personal_data_permission(
    victim: Complaint, make_user: Callable[..., User], desk_client_for: Callable[[User], Client]
) -> None:
    """Its list shows contact data in full and its search box finds a phone by any part of it."""
    user = make_user(Role.QUALITY)
    user.is_staff = True
    user.save()
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="directory", codename__in=["view_customer", "change_customer"]
        )
    )
    verify_session(Client(), user)  # the admin asks every user for a second factor: give this one a device
    client = desk_client_for(user)
    for path in ("/admin/directory/customer/", f"/admin/directory/customer/{victim.customer_id}/change/"):
        response = client.get(path, {"q": PHONE[-5:]})
        assert response.status_code == 403, path
        assert PHONE not in response.content.decode()
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    user = User.objects.get(pk=user.pk)  # permissions are cached per object
    assert PHONE in desk_client_for(user).get("/admin/directory/customer/", {"q": PHONE[-5:]}).content.decode()

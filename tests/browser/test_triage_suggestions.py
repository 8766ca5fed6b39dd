"""Triage suggestions in a real browser: on the registration page the agent types a description, sees what
the model learned from the closed history suggests — each with the words that drove it — and accepts one
with its Alt key; the field is filled. axe-core on the page with the suggestions shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import expect

from closeloop.core.roles import Role
from closeloop.directory.models import Product
from closeloop.imports.models import ImportSource
from closeloop.imports.services import complaints_import
from closeloop.triage import learn, suggest
from closeloop.triage.services import triage_train
from closeloop.triage.synthetic import history
from tests.browser.test_handling_flow import login
from tests.triage.conftest import history_rows

SERIOUS = ("serious", "critical")


@pytest.mark.django_db(transaction=True)
def test_agent_accepts_a_learned_suggestion_with_its_alt_key(
    page: Any, make_user: Callable[..., User], product: Product, settings: Any
) -> None:
    settings.TRIAGE_MIN_HISTORY = 300
    assert not complaints_import(rows=history_rows(history(400, seed=61)), actor=None, source=ImportSource.CLI).errors
    model = triage_train()
    suggest.forget()  # the catalogue's product, read by the live server's thread
    make_user(Role.AGENT, username="triage-agent")
    login(page, "triage-agent")

    page.goto(page.base_url + "/desk/new/")
    description = f"物流显示已签收，但是根本没收到 {product.model}"
    page.locator("textarea[name=description]").press_sequentially(description, delay=10)
    suggestions = page.locator("#triage-suggestions [data-triage]")
    expect(suggestions).to_contain_text(f"model v{model.version}")
    type_button = suggestions.locator("[data-triage-field=type]")
    expect(type_button).to_have_attribute("data-triage-value", "logistics")
    type_line = suggestions.locator("li", has=page.locator("[data-triage-field=type]"))
    expect(type_line).to_contain_text(re.compile("«.+»"))
    driving = re.findall(r"«([^»]+)»", type_line.inner_text())
    assert driving and all(word in description for word in driving), driving  # the typed words that drove it
    expect(page.locator("input[name=type][value=logistics]")).not_to_be_checked()  # nothing applied unasked

    page.keyboard.press("Alt+1")
    expect(page.locator("input[name=type][value=logistics]")).to_be_checked()
    expect(type_button).to_have_attribute("aria-pressed", "true")
    expect(page.locator("input[name=product_model]")).to_have_value("")
    page.keyboard.press("Alt+4")
    expect(page.locator("input[name=product_model]")).to_have_value(product.model)

    results = Axe().run(page)
    bad = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v.get("impact") in SERIOUS
    ]
    assert bad == [], bad
    learn.forget()

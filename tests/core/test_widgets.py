"""The Python-written widgets (core/widgets.py) write what Django's templates write."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.test.html import parse_html

from closeloop.core.widgets import PlainDateInput, PlainSelect, PlainTextInput

CHOICES = [("", "全部"), ("a", "甲 <b>"), ("b", 'say "b"'), ("组", [("c", "丙"), ("d", "丁")])]


@pytest.mark.parametrize("value", [None, "", "a", "d", ["b"]])
def test_select_writes_what_djangos_writes(value: object) -> None:
    attrs = {"id": "id_s", "hx-get": "/desk/?x=1&y=2", "required": True, "disabled": False}
    ours = PlainSelect(attrs=attrs, choices=CHOICES).render("status", value)
    django = forms.Select(attrs=attrs, choices=CHOICES).render("status", value)
    assert parse_html(ours) == parse_html(django)


@pytest.mark.parametrize(
    ("plain", "stock", "value"),
    [
        (PlainTextInput, forms.TextInput, None),
        (PlainTextInput, forms.TextInput, 'x" onmouseover="y'),
        (PlainDateInput, forms.DateInput, datetime.date(2026, 12, 7)),
        (PlainDateInput, forms.DateInput, "2026-13-45"),
    ],
)
def test_inputs_write_what_djangos_write(plain: type, stock: type, value: object) -> None:
    attrs = {"type": "search", "placeholder": "号码 <姓名>", "hx-trigger": "input changed delay:400ms"}
    assert parse_html(plain(attrs=attrs).render("q", value)) == parse_html(stock(attrs=attrs).render("q", value))

"""The printed feedback form embeds its fonts (weights 400 and 700) and has a glyph for every character it
prints, in both languages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from closeloop.handling.pdf import feedback_form_pdf
from closeloop.handling.services.feedback import feedback_form_prefill, feedback_form_save, feedback_form_submit
from tests.pdf_glyphs import missing_glyphs, shown_characters, unembedded, weights, width_mismatches

from .conftest import COMPLETE, Opened

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_printed_character_has_a_glyph_in_the_embedded_font(
    opened: Callable[..., Opened], people: dict[str, User], language: str
) -> None:
    o = opened(contacts=True, description="吸顶灯通电后不亮（客户原话）：“灯不亮…”")
    feedback_form_save(form=o.form, data={**COMPLETE, "compensation": "200元代金券"}, actor=people["quality_handler"])
    form = feedback_form_submit(form=o.form, actor=people["quality_handler"])
    with translation.override(language):
        pdf = feedback_form_pdf(form, feedback_form_prefill(form))
    assert unembedded(pdf) == set()
    assert missing_glyphs(pdf) == set()
    assert weights(pdf) == {400, 700}  # text and headings
    assert width_mismatches(pdf) == set()
    assert "·" in shown_characters(pdf)

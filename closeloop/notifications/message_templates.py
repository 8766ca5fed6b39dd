"""Customer message templates (MessageTemplate, edited in the admin): rendering and the admin's preview.

Which message is sent when, to whom and with what context is the complaint's business
(complaints.customer_messages); this module only turns a template and a context into text.
"""

from __future__ import annotations

from typing import Any

from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

from closeloop.notifications.models import MessageTemplate


def render_template(template: MessageTemplate, *, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a template in a language; English falls back to Chinese where it is empty.
    Plain text: nothing is HTML-escaped."""
    english = language == "en"
    subject = (template.subject_en if english else "") or template.subject_zh
    body = (template.body_en if english else "") or template.body_zh
    with translation.override(language):
        ctx = Context(context, autoescape=False)
        return Template(subject).render(ctx).strip(), Template(body).render(ctx).strip()


def template_preview(template: MessageTemplate, *, language: str) -> tuple[str, str]:
    """The admin's preview: the template rendered with an example complaint."""
    context = {
        "number": "TS20261123-0007",
        "product": "XD-100 LED吸顶灯" if language != "en" else "XD-100 LED ceiling light",
        "received_date": "2026-11-23",
        "solution": "上门更换驱动电源" if language != "en" else "On-site replacement of the LED driver",
        "measures": "上门维修" if language != "en" else "on-site repair",
        "compensation": "",
    }
    try:
        return render_template(template, language=language, context=context)
    except TemplateSyntaxError as exc:
        return "", f"⚠ {exc}"

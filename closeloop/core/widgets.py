"""Form widgets written in Python for the pages opened most (the desk queue's filters).

Django renders a `<select>` through a template per option (two, with the attributes' one), and an
`<input>` through two templates: the queue's ten filter fields cost a fifth of the page's CPU
(pyinstrument, 10,000 complaints). These write the same HTML with `format_html`, escaped alike.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class PlainSelect(forms.Select):
    """A `<select>` as Django's writes it, from the choices themselves: not through get_context, whose
    option dictionaries (an attribute dictionary built and copied per option) were still half of the
    queue's filter form (issue 20). The first option with the value is selected, as Django's."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        values = {str(v) for v in self.format_value(value)}
        has_selected = False
        parts: list[str] = []
        for option_value, option_label in self.choices:
            if isinstance(option_label, list | tuple):
                group, options = option_value, option_label
            else:
                group, options = None, [(option_value, option_label)]
            rendered = []
            for sub_value, sub_label in options:
                text = "" if sub_value is None else str(sub_value)
                selected = (not has_selected or self.allow_multiple_selected) and text in values
                has_selected |= selected
                rendered.append(
                    format_html('<option value="{}"{}>{}</option>', text, " selected" if selected else "", sub_label)
                )
            options_html = "".join(rendered)
            if group:
                parts.append(format_html('<optgroup label="{}">{}</optgroup>', group, mark_safe(options_html)))  # noqa: S308  # escaped above
            else:
                parts.append(options_html)
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final_attrs),
            mark_safe("".join(parts)),  # noqa: S308  (each part escaped by format_html)
        )


class _PlainInput:
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]  # a forms.Input's
        shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return format_html(
            '<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], shown, flatatt(widget["attrs"])
        )


class PlainTextInput(_PlainInput, forms.TextInput):
    pass


class PlainDateInput(_PlainInput, forms.DateInput):
    pass

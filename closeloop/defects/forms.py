"""Desk forms of early warning. Required-ness of texts is the services' rule (so desk and API say the
same); the forms only shape the input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from closeloop.defects.models import DefectIncident
from closeloop.defects.services.common import TEXT_MAX, TITLE_MAX
from closeloop.defects.services.rules import DEFAULT_CODE, THRESHOLD_RANGE, WINDOW_RANGE
from closeloop.directory.models import ProductLine
from closeloop.handling.models import Measure


def _text(label: Any, *, rows: int = 2, max_length: int = TEXT_MAX) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


class DismissForm(forms.Form):
    reason = _text(_("why this is not a defect"))


class OpenIncidentForm(forms.Form):
    title = forms.CharField(label=_("title"), required=False, max_length=TITLE_MAX)
    batch_no = forms.CharField(
        label=_("batch / lot number"),
        required=False,
        max_length=60,
        help_text=_("Leave empty for an incident about the whole model."),
    )
    description = _text(_("description"), rows=3)


class LinkIncidentForm(forms.Form):
    incident = forms.ModelChoiceField(
        label=_("open incident of the same model"), queryset=DefectIncident.objects.none(), to_field_name="number"
    )

    def __init__(self, *args: Any, incidents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = incidents  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field


class AddComplaintForm(forms.Form):
    complaint = forms.CharField(
        label=_("complaint number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "TS20260101-0001"}),
    )
    note = forms.CharField(label=_("note"), required=False, max_length=TEXT_MAX)


class RemoveComplaintForm(forms.Form):
    complaint = forms.ChoiceField(label=_("complaint"), choices=[])
    reason = _text(_("why it is not part of the defect"))

    def __init__(self, *args: Any, numbers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["complaint"].choices = [(n, n) for n in numbers]  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field


class RemedyForm(forms.Form):
    measure = forms.ChoiceField(label=_("measure"), choices=Measure.choices, initial=Measure.REPLACEMENT)
    remedy = _text(_("remedy for every complaint"), rows=3)


class CloseIncidentForm(forms.Form):
    note = _text(_("closing note"))


class JoinIncidentForm(forms.Form):
    """On a complaint's page: put it into an open incident of its model."""

    incident = forms.ModelChoiceField(
        label=_("open incident of the same model"), queryset=DefectIncident.objects.none(), to_field_name="number"
    )
    note = forms.CharField(label=_("note"), required=False, max_length=TEXT_MAX)

    def __init__(self, *args: Any, incidents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = incidents  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field


class RuleForm(forms.Form):
    product_line = forms.ChoiceField(label=_("product line"), choices=[])
    threshold = forms.IntegerField(
        label=_("complaints"), min_value=THRESHOLD_RANGE[0], max_value=THRESHOLD_RANGE[1], initial=3
    )
    window_days = forms.IntegerField(
        label=_("within (days)"), min_value=WINDOW_RANGE[0], max_value=WINDOW_RANGE[1], initial=7
    )
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_line"].choices = [  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field
            (DEFAULT_CODE, _("default (every line without its own rule)")),
            *[(line.code, line.label) for line in ProductLine.objects.order_by("code")],
        ]


class RuleRemoveForm(forms.Form):
    product_line = forms.SlugField(max_length=40)

"""Desk forms. They parse what was typed into the values services take; the rules themselves live
in the services, whose errors `core.forms_ui.add_domain_errors` puts back on the matching fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from closeloop.complaints import selectors
from closeloop.complaints.customer_messages import EMAIL_MAX_CHARS, SUBJECT_MAX_CHARS
from closeloop.complaints.lifecycle import FIELD_LABELS, Status, Transition
from closeloop.complaints.models import AttachmentKind, Channel, Complaint, Priority
from closeloop.complaints.selectors import OPEN, SORTS, QueueFilters
from closeloop.complaints.services import AttachmentUpload, IntakeData
from closeloop.core.formcopy import quick_field_copies
from closeloop.core.types import AnyUser
from closeloop.core.widgets import PlainDateInput, PlainSelect, PlainTextInput
from closeloop.directory import selectors as directory_selectors
from closeloop.directory.models import Customer, CustomerKind
from closeloop.notifications.models import Method

# The queue's status filter for every status, closed and invalid ones too (no choice: open ones).
ALL_STATUSES = "all"

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

SORT_LABELS = {
    "due": _("nearest deadline first"),
    "-received_at": _("newest first"),
    "received_at": _("oldest first"),
    "priority": _("most urgent first"),
    "number": _("number ascending"),
    "-number": _("number descending"),
}


def _type_choices() -> list[tuple[str, str]]:
    return [(t.code, t.label) for t in directory_selectors.complaint_types_active()]


class QueueFilterForm(forms.Form):
    # Plain* widgets: the same HTML written without a template per option (core/widgets.py).
    q = forms.CharField(
        label=_("search"),
        required=False,
        max_length=100,
        widget=PlainTextInput(
            attrs={
                "type": "search",
                "placeholder": _("number, name, phone, text…"),
                # Searches while one types, as requests of its own (HX-Trigger-Name: q): the queue view runs
                # a search that is counted (a whole phone or e-mail by a masked role) only when submitted.
                "hx-get": reverse_lazy("desk:queue"),
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#queue-results",
                "hx-include": "closest form",
                "hx-push-url": "true",
            }
        ),
    )
    status = forms.ChoiceField(label=_("status"), required=False, widget=PlainSelect)
    priority = forms.TypedChoiceField(
        label=_("priority"), required=False, coerce=int, empty_value=None, widget=PlainSelect
    )
    type = forms.ChoiceField(label=_("type"), required=False, widget=PlainSelect)
    channel = forms.ChoiceField(label=_("channel"), required=False, widget=PlainSelect)
    product = forms.CharField(label=_("product"), required=False, max_length=60, widget=PlainTextInput)
    received_from = forms.DateField(
        label=_("received from"), required=False, widget=PlainDateInput(attrs={"type": "date"})
    )
    received_to = forms.DateField(label=_("received to"), required=False, widget=PlainDateInput(attrs={"type": "date"}))
    due = forms.ChoiceField(
        label=_("deadline"),
        required=False,
        choices=[("", _("all")), ("overdue", _("overdue")), ("today", _("due today"))],
        widget=PlainSelect,
    )
    sort = forms.ChoiceField(label=_("sort"), required=False, widget=PlainSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        anything: list[tuple[str, Any]] = [("", _("all"))]
        # Open complaints unless asked otherwise: the queue is the work still to do.
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            ("", pgettext_lazy("queue status filter", "open (not closed or invalid)")),
            (ALL_STATUSES, _("all")),
            *Status.choices,
        ]
        cast(forms.ChoiceField, self.fields["priority"]).choices = anything + [
            (str(v), label) for v, label in Priority.choices
        ]
        cast(forms.ChoiceField, self.fields["type"]).choices = anything + _type_choices()
        cast(forms.ChoiceField, self.fields["channel"]).choices = anything + list(Channel.choices)
        cast(forms.ChoiceField, self.fields["sort"]).choices = [(key, SORT_LABELS.get(key, key)) for key in SORTS]

    def filters(self) -> QueueFilters:
        """The filters from the fields that were valid; a malformed one is shown as an error and ignored."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        return QueueFilters(
            status={"": OPEN, ALL_STATUSES: ""}.get(data.get("status") or "", data.get("status") or ""),
            priority=data.get("priority"),
            type_code=data.get("type") or "",
            channel=data.get("channel") or "",
            product=(data.get("product") or "").strip(),
            received_from=data.get("received_from"),
            received_to=data.get("received_to"),
            q=(data.get("q") or "").strip(),
            due=data.get("due") or "",
            sort=data.get("sort") or "due",
        )


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class TypePicker(forms.RadioSelect):
    """Radio buttons that carry each type's proposed department, shown as the type is picked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.departments: dict[str, str] = {}

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["attrs"]["data-department"] = self.departments.get(str(option["value"]), "")
        return option


@dataclass(frozen=True)
class _RegistrationChoices:
    types: list[tuple[str, str]]
    type_departments: dict[str, str]  # type code → its default department's label
    departments: list[tuple[str, str]]


# language → (the reference cache's types and departments it was made from, the choices)
_registration_choices_made: dict[str, tuple[list[Any], list[Any], _RegistrationChoices]] = {}


def _registration_choices() -> _RegistrationChoices:
    """The registration form's type and department choices in the current language, made again whenever
    the reference cache reads the types or departments again (so they are as fresh as it is). Their
    labels are translated per language: making them was a sixth of building the form, which every
    registration does (issue 20)."""
    types, departments = directory_selectors.complaint_types_active(), directory_selectors.departments_active()
    language = get_language() or ""
    made = _registration_choices_made.get(language)
    if made is None or made[0] is not types or made[1] is not departments:
        choices = _RegistrationChoices(
            types=[(t.code, t.label) for t in types],
            type_departments={t.code: t.default_department.label if t.default_department else "" for t in types},
            departments=[("", str(_("as proposed for the type")))] + [(d.code, d.label) for d in departments],
        )
        made = _registration_choices_made[language] = (types, departments, choices)
    return made[2]


@quick_field_copies  # built on every registration: core/formcopy.py
class RegistrationForm(forms.Form):
    """The registration form (客户投诉登记表). Field names are the service's error field names."""

    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices, initial=Channel.HOTLINE)
    received_at = forms.DateTimeField(
        label=_("received at"),
        required=False,
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        help_text=_("Earlier than now for letters and back-office entry."),
    )
    phone = forms.CharField(
        label=_("phone"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=_("e-mail"), required=False, max_length=254, widget=forms.TextInput(attrs={"inputmode": "email"})
    )
    customer_kind = forms.ChoiceField(
        label=_("complainant type"), choices=CustomerKind.choices, initial=CustomerKind.END_USER
    )
    # Required by the service, not by the form: the service reports every missing field together
    # with the other errors (phone, time received…), so the agent fixes them all in one go.
    customer_name = forms.CharField(
        label=_("name"), required=False, max_length=100, widget=forms.TextInput(attrs={"required": True})
    )
    organisation = forms.CharField(label=_("company / store"), required=False, max_length=150)
    address = forms.CharField(label=_("address"), required=False, max_length=255)
    province = forms.CharField(label=_("province"), required=False, max_length=30)
    city = forms.CharField(label=_("city"), required=False, max_length=30)
    product_model = forms.CharField(
        label=_("product model"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"list": "product-options", "autocomplete": "off"}),
    )
    product_text = forms.CharField(
        label=_("product (as described)"),
        required=False,
        max_length=150,
        help_text=_("When the model is not in the catalogue or unknown."),
    )
    batch_no = forms.CharField(label=_("batch / lot number"), required=False, max_length=60)
    purchase_date = forms.DateField(
        label=_("purchase date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    order_no = forms.CharField(label=_("order / invoice number"), required=False, max_length=60)
    type = forms.ChoiceField(label=_("type"), required=False, widget=TypePicker)
    priority = forms.TypedChoiceField(
        label=_("priority"),
        coerce=int,
        choices=Priority.choices,
        initial=Priority.NORMAL,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=_("description (customer's own words)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "required": True}),
    )
    onsite_situation = forms.CharField(
        label=_("on-site situation"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    demand = forms.CharField(label=_("customer's demand"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    department = forms.ChoiceField(label=_("responsible department"), required=False)
    # Filled in by a call-centre pop-up (/desk/new/?phone=…&external_ref=…&recording=…) or typed.
    external_ref = forms.CharField(
        label=_("external reference"),
        required=False,
        max_length=80,
        help_text=_("The call's or ticket's id in the calling system."),
    )
    recording_url = forms.CharField(
        label=_("call recording (link)"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"inputmode": "url"}),
    )
    attachments = MultipleFileField(label=_("attachments"), required=False)
    attachment_kind = forms.ChoiceField(
        label=_("kind of attachment"), choices=AttachmentKind.choices, initial=AttachmentKind.PHOTO
    )
    paper_original_location = forms.CharField(
        label=_("where the paper original is kept"), required=False, max_length=150
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Reference data from the per-process cache: the page is opened for every call taken.
        choices = _registration_choices()
        cast(forms.ChoiceField, self.fields["type"]).choices = choices.types
        self.type_departments = dict(choices.type_departments)
        self.fields["type"].widget.departments = self.type_departments
        cast(forms.ChoiceField, self.fields["department"]).choices = choices.departments
        if not self.is_bound:
            self.initial.setdefault("received_at", timezone.localtime().replace(second=0, microsecond=0))

    @classmethod
    def for_call(cls, *, query: Mapping[str, str], customer: Customer | None) -> RegistrationForm:
        """The empty form a call-centre pop-up opens (`/desk/new/?phone=…&external_ref=…&recording=…`):
        a phone call, the caller's number, the CTI's reference and recording link, and a known caller's
        details as the desk's customer lookup would fill them in."""
        initial: dict[str, Any] = {
            "channel": Channel.HOTLINE,
            "phone": query.get("phone", "").strip()[:30],
            "external_ref": query.get("external_ref", "").strip()[:80],
            "recording_url": query.get("recording", "").strip()[:500],
        }
        if customer is not None:
            initial.update(
                customer_name=customer.name,
                customer_kind=customer.kind,
                organisation=customer.organisation,
                phone=customer.phone,
                email=customer.email,
                address=customer.address,
                province=customer.province,
                city=customer.city,
            )
        return cls(initial=initial)

    def proposed_department(self) -> str:
        """The department proposed for the type currently picked (bound or initial)."""
        code = self["type"].value()
        return self.type_departments.get(str(code or ""), "")

    def intake_data(self) -> IntakeData:
        d = self.cleaned_data
        uploads = [
            AttachmentUpload(
                name=f.name or "",
                file=f,
                size=f.size or 0,
                kind=d["attachment_kind"],
                paper_original_location=d["paper_original_location"].strip(),
            )
            for f in d["attachments"]
        ]
        return IntakeData(
            channel=d["channel"],
            received_at=d["received_at"],
            customer_kind=d["customer_kind"],
            customer_name=d["customer_name"],
            organisation=d["organisation"],
            phone=d["phone"],
            email=d["email"],
            address=d["address"],
            province=d["province"],
            city=d["city"],
            product_model=d["product_model"],
            product_text=d["product_text"],
            batch_no=d["batch_no"],
            purchase_date=d["purchase_date"],
            order_no=d["order_no"],
            type_code=d["type"],
            priority=d["priority"],
            description=d["description"],
            onsite_situation=d["onsite_situation"],
            demand=d["demand"],
            department_code=d["department"],
            external_ref=d["external_ref"],
            recording_url=d["recording_url"],
            attachments=uploads,
        )


class TransitionForm(forms.Form):
    """The fields a lifecycle transition requires. Emptiness is checked by the service, which knows
    which fields each action needs; the browser is told too, for a quick hint."""

    def __init__(
        self,
        *args: Any,
        transition: Transition,
        complaint: Complaint,
        user: AnyUser,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", transition.action)
        super().__init__(*args, **kwargs)
        self.transition = transition
        self.complaint = complaint
        self.user = user
        for name in transition.required:
            label = FIELD_LABELS.get(name, name)
            if name == "duplicate_of":
                field: forms.Field = forms.CharField(
                    label=label,
                    required=False,
                    max_length=20,
                    widget=forms.TextInput(attrs={"required": True, "placeholder": "TS20260101-0001"}),
                )
            else:
                field = forms.CharField(
                    label=label, required=False, widget=forms.Textarea(attrs={"rows": 2, "required": True})
                )
            self.fields[name] = field

    def clean_duplicate_of(self) -> Complaint | None:
        number = (self.cleaned_data.get("duplicate_of") or "").strip().upper()
        if not number:
            return None
        try:
            return selectors.complaint_get(user=self.user, number=number)
        except Complaint.DoesNotExist:
            raise forms.ValidationError(
                _("There is no complaint %(number)s that you can see."), params={"number": number}
            ) from None

    def service_data(self) -> Mapping[str, object]:
        return dict(self.cleaned_data)


class PriorityChangeForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("new priority"), choices=Priority.choices, coerce=int)
    reason = forms.CharField(
        label=_("reason"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class WaitForCustomerForm(forms.Form):
    reason = forms.CharField(label=_("what are we waiting for?"), required=False, max_length=200)


class ResumeForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False, max_length=500)


class CustomerMessageForm(forms.Form):
    """Writing to the customer from the complaint: the method, the text (started from a template) and,
    for an e-mail, its subject. Limits and addresses are the service's rules."""

    method = forms.ChoiceField(
        label=_("send as"), choices=[(Method.EMAIL, _("e-mail")), (Method.SMS, _("SMS"))], widget=forms.RadioSelect
    )
    template = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
    subject = forms.CharField(label=_("subject"), required=False, max_length=SUBJECT_MAX_CHARS)
    text = forms.CharField(
        label=_("message"), required=False, max_length=EMAIL_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 8})
    )


class CustomerMessageStartForm(forms.Form):
    """The complaint page's choice of method and template, opening the message to edit."""

    method = forms.ChoiceField(
        label=_("send as"), choices=[(Method.EMAIL, _("e-mail")), (Method.SMS, _("SMS"))], widget=forms.RadioSelect
    )
    template = forms.ChoiceField(label=_("template"), required=False)

    def __init__(self, *args: Any, templates: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["template"]).choices = [("", _("none: write freely")), *templates]

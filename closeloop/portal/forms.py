"""Portal forms: they parse what was typed (choices, dates, files, lengths); the intake service
decides what is acceptable, and its field errors are put back on these fields."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from closeloop.complaints.models import AttachmentKind, Channel, Complaint
from closeloop.complaints.services import AttachmentUpload, IntakeData, normalize_phone
from closeloop.core.errors import DomainError
from closeloop.directory.models import ComplaintType, Customer, CustomerKind, Product

# Kinds that represent a business; they are asked for their company or store name.
ORGANISATION_KINDS = (CustomerKind.DEALER, CustomerKind.STORE)


def _max_length(model: type, name: str) -> int:
    return model._meta.get_field(name).max_length  # type: ignore[attr-defined]  # `model: type` names a model


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        limit = settings.PORTAL_MAX_ATTACHMENTS
        if len(files) > limit:
            raise forms.ValidationError(_("Attach at most %(limit)d files.") % {"limit": limit}, code="too_many_files")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def _attachment_kind(upload: UploadedFile) -> str:
    # Only a label for the desk; the service decides from the content whether the file is accepted.
    return AttachmentKind.SCAN if upload.content_type == "application/pdf" else AttachmentKind.PHOTO


def _text(label: Any, model: type, name: str, **attrs: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=_max_length(model, name),
        widget=forms.TextInput(attrs=attrs),
    )


class ComplaintForm(forms.Form):
    # Required-ness and contact rules are the intake service's; `required` below is only the
    # browser hint, so that every rule and message lives in one place.
    customer_kind = forms.ChoiceField(
        label=_("I am"),
        choices=CustomerKind.choices,
        initial=CustomerKind.END_USER,
        widget=forms.RadioSelect,
    )
    customer_name = _text(_("Your name"), Customer, "name", autocomplete="name", required="required")
    organisation = _text(_("Company / store name"), Customer, "organisation", autocomplete="organization")
    phone = forms.CharField(
        label=_("Mobile or phone"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("With its last 4 digits you can check the status of your complaint."),
    )
    email = forms.CharField(
        label=_("E-mail"),
        required=False,
        max_length=_max_length(Customer, "email"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("Give a phone number, an e-mail address or both."),
    )
    province = _text(_("Province"), Complaint, "province", autocomplete="address-level1")
    city = _text(_("City"), Complaint, "city", autocomplete="address-level2")
    address = _text(_("Address"), Customer, "address", autocomplete="street-address")
    product_model = _text(
        _("Product model"), Complaint, "product_text", list="portal-product-models", autocomplete="off"
    )
    batch_no = _text(_("Batch number"), Complaint, "batch_no", autocomplete="off")
    purchase_date = forms.DateField(
        label=_("Purchase date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    order_no = _text(_("Order or invoice number"), Complaint, "order_no", autocomplete="off")
    type = forms.ChoiceField(label=_("What is the complaint about?"), required=False)
    description = forms.CharField(
        label=_("What happened?"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6, "required": "required"}),
    )
    demand = forms.CharField(
        label=_("What would you like us to do?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    attachments = MultipleFileField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*,application/pdf"}),
        help_text=_("Photos of the product, the label or the invoice help us. JPEG, PNG or PDF."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = ComplaintType.objects.filter(is_active=True).order_by("sort_order", "code")
        cast(forms.ChoiceField, self.fields["type"]).choices = [("", _("Choose…")), *((t.code, t.label) for t in types)]
        self.fields["type"].widget.attrs["required"] = "required"

    @staticmethod
    def product_models() -> list[Product]:
        """For the datalist that suggests catalogue models while typing."""
        return list(Product.objects.filter(is_active=True).only("model", "name", "name_en").order_by("model")[:500])

    def intake_data(self) -> IntakeData:
        data = self.cleaned_data
        return IntakeData(
            channel=Channel.WEB,
            customer_kind=data["customer_kind"],
            customer_name=data["customer_name"],
            organisation=data["organisation"] if data["customer_kind"] in ORGANISATION_KINDS else "",
            phone=data["phone"],
            email=data["email"],
            province=data["province"],
            city=data["city"],
            address=data["address"],
            product_model=data["product_model"],
            batch_no=data["batch_no"],
            purchase_date=data["purchase_date"],
            order_no=data["order_no"],
            type_code=data["type"],
            description=data["description"],
            demand=data["demand"],
            attachments=[
                AttachmentUpload(name=f.name or "upload", file=f, size=f.size or 0, kind=_attachment_kind(f))
                for f in data["attachments"]
            ],
        )

    def add_domain_errors(self, errors: dict[str, list[str]]) -> None:
        """Put the service's errors on the matching fields; any other goes on top of the form."""
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class StatusLookupForm(forms.Form):
    """The complaint number with the last 4 digits of the phone, or with the whole phone number (which
    the portal asks for when a number has had too many wrong guesses: closeloop/portal/lookup.py)."""

    number = forms.CharField(
        label=_("Complaint number"),
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "placeholder": "TS20260101-0001"}
        ),
    )
    phone_last4 = forms.CharField(
        label=_("Last 4 digits of your phone"),
        required=False,
        min_length=4,
        max_length=4,
        validators=[RegexValidator(r"^\d{4}$", _("Enter the last 4 digits of the phone number you gave us."))],
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "pattern": r"\d{4}", "autocomplete": "off", "maxlength": "4"}
        ),
    )
    phone = forms.CharField(
        label=_("Your whole phone number"),
        required=False,
        max_length=30,
        help_text=_("The phone number you gave us with the complaint."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"]
        if not raw.strip():
            return ""
        try:
            return normalize_phone(raw)
        except DomainError:
            raise forms.ValidationError(
                _("Enter the whole phone number you gave us, e.g. 138 1234 5678."), code="invalid"
            ) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not cleaned.get("phone") and not cleaned.get("phone_last4"):
            self.add_error("phone_last4", _("Enter the last 4 digits of the phone number you gave us."))
        return cleaned


class AddInformationForm(forms.Form):
    """What the customer adds to their open complaint from the status page: text and/or photos."""

    text = forms.CharField(
        label=_("What would you like to add?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example what happened since, or a better time to call you."),
    )
    attachments = MultipleFileField(
        label=_("Photos"),
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*,application/pdf"}),
        help_text=_("JPEG, PNG or PDF."),
    )

    def uploads(self) -> list[AttachmentUpload]:
        return [
            AttachmentUpload(name=f.name or "upload", file=f, size=f.size or 0, kind=_attachment_kind(f))
            for f in self.cleaned_data["attachments"]
        ]

    def add_domain_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)

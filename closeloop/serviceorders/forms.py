"""Desk forms of service orders: registration (phone first, like the complaint's) and the portal's request."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from closeloop.complaints.models import Channel, Priority
from closeloop.directory.models import CustomerKind
from closeloop.serviceorders.lifecycle import PORTAL_KINDS, Kind
from closeloop.serviceorders.services import OrderData


class ServiceOrderForm(forms.Form):
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    email = forms.CharField(label=_("e-mail"), max_length=254, required=False)
    customer_name = forms.CharField(label=_("name"), max_length=100)
    customer_kind = forms.ChoiceField(
        label=_("complainant type"), choices=CustomerKind.choices, initial=CustomerKind.END_USER
    )
    province = forms.CharField(label=_("province"), max_length=30, required=False)
    city = forms.CharField(label=_("city"), max_length=30, required=False)
    address = forms.CharField(label=_("address"), max_length=255, required=False)
    kind = forms.ChoiceField(label=_("kind of service"), choices=Kind.choices)
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices, initial=Channel.HOTLINE)
    priority = forms.TypedChoiceField(
        label=_("priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    product_model = forms.CharField(label=_("model / SKU"), max_length=60, required=False)
    serial_no = forms.CharField(label=_("serial number"), max_length=60, required=False)
    batch_no = forms.CharField(label=_("batch / lot number"), max_length=60, required=False)
    purchase_date = forms.DateField(
        label=_("purchase date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    order_no = forms.CharField(label=_("order / invoice number"), max_length=60, required=False)
    description = forms.CharField(label=_("fault description"), widget=forms.Textarea(attrs={"rows": 4}))
    attachment = forms.FileField(label=_("photo or invoice"), required=False)

    def order_data(self) -> OrderData:
        from closeloop.complaints.services import AttachmentUpload

        d = self.cleaned_data
        uploads = []
        if d.get("attachment"):
            f = d["attachment"]
            uploads.append(AttachmentUpload(name=f.name, file=f, size=f.size))
        return OrderData(
            kind=d["kind"],
            channel=d["channel"],
            customer_name=d["customer_name"],
            customer_kind=d["customer_kind"],
            description=d["description"],
            phone=d.get("phone", ""),
            email=d.get("email", ""),
            address=d.get("address", ""),
            province=d.get("province", ""),
            city=d.get("city", ""),
            priority=d["priority"],
            product_model=d.get("product_model", ""),
            serial_no=d.get("serial_no", ""),
            batch_no=d.get("batch_no", ""),
            purchase_date=d.get("purchase_date"),
            order_no=d.get("order_no", ""),
            attachments=uploads,
        )


class PortalRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("what you need"), choices=[(k.value, k.label) for k in PORTAL_KINDS])
    customer_name = forms.CharField(label=_("your name"), max_length=100)
    phone = forms.CharField(label=_("mobile phone"), max_length=30)
    province = forms.CharField(label=_("province"), max_length=30, required=False)
    city = forms.CharField(label=_("city"), max_length=30, required=False)
    address = forms.CharField(label=_("address"), max_length=255, required=False)
    product_model = forms.CharField(label=_("model (on the label)"), max_length=60, required=False)
    purchase_date = forms.DateField(
        label=_("purchase date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    order_no = forms.CharField(label=_("order / invoice number"), max_length=60, required=False)
    description = forms.CharField(label=_("what is wrong"), widget=forms.Textarea(attrs={"rows": 4}))

    def order_data(self) -> OrderData:
        d = self.cleaned_data
        return OrderData(
            kind=d["kind"],
            channel=Channel.WEB,
            customer_name=d["customer_name"],
            description=d["description"],
            phone=d["phone"],
            province=d.get("province", ""),
            city=d.get("city", ""),
            address=d.get("address", ""),
            product_model=d.get("product_model", ""),
            purchase_date=d.get("purchase_date"),
            order_no=d.get("order_no", ""),
        )


class LookupForm(forms.Form):
    number = forms.CharField(label=_("service order number"), max_length=20)
    phone_last4 = forms.RegexField(label=_("last 4 digits of your phone"), regex=r"^\d{4}$", max_length=4, min_length=4)

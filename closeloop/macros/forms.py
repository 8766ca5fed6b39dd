"""The desk's canned-reply form and the message form of the complaint page's picker."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from closeloop.notifications.models import Method


class MacroForm(forms.Form):
    title = forms.CharField(label=_("Name"), max_length=80)
    subject = forms.CharField(label=_("Subject (e-mail)"), required=False, max_length=200)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 6}), max_length=2000)
    shared = forms.BooleanField(label=_("Shared with every agent"), required=False)


class SendForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Send as"), choices=[(Method.SMS, _("SMS")), (Method.EMAIL, _("e-mail"))], widget=forms.RadioSelect
    )
    subject = forms.CharField(label=_("Subject (e-mail)"), required=False, max_length=200)
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}), max_length=10_000)

"""The staff channel choice on "My account"."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop.notifications.channels import available_channels, channel_label


class StaffChannelForm(forms.Form):
    channel = forms.ChoiceField(label=gettext_lazy("Also tell me by"), required=False)

    def __init__(self, *args: Any, role_channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("the default of my role (%(channel)s)") % {"channel": channel_label(role_channel)})]
        choices += [(channel, channel_label(channel)) for channel in available_channels()]
        cast(forms.ChoiceField, self.fields["channel"]).choices = choices

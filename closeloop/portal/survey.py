"""The self-service survey on the portal: /portal/survey/<token>/. No login; the token is the only
thing in the URL and is checked against its stored hash. The answer is recorded by
followup.services.survey.survey_answer, exactly as an agent's would be; the link is spent with it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from closeloop.core.errors import DomainError, ValidationFailed
from closeloop.followup.selectors import active_levels
from closeloop.followup.services.followups import TEXT_MAX_LENGTH
from closeloop.followup.services.survey import LinkState, SurveyLinkRefused, survey_answer, survey_link_check

# Forged or unknown → 404; expired or already answered → 410 (gone).
REFUSED_STATUS = {LinkState.UNKNOWN: 404, LinkState.EXPIRED: 410, LinkState.USED: 410}


class SurveyForm(forms.Form):
    solved = forms.ChoiceField(
        label=_("Is your problem solved?"),
        choices=[("yes", _("Yes, it is solved")), ("no", _("No, not yet"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please tell us whether the problem is solved.")},
    )
    level = forms.ChoiceField(
        label=_("How satisfied are you with how we handled it?"),
        choices=[],
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose how satisfied you are.")},
    )
    comments = forms.CharField(
        label=_("Anything you would like to tell us?"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    suggestions = forms.CharField(
        label=_("Suggestions for us"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        english = (get_language() or "").startswith("en")
        self.fields["level"].choices = [  # type: ignore[attr-defined]  # a (Model)ChoiceField; form fields are typed Field
            (lv.code, lv.label_en if english else lv.label_zh) for lv in active_levels()
        ]


def _refused(request: HttpRequest, state: LinkState) -> HttpResponse:
    return render(request, "portal/survey_refused.html", {"state": state.value}, status=REFUSED_STATUS[state])


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    check = survey_link_check(token=token)
    if check.state is not LinkState.OK or check.link is None:
        return _refused(request, check.state)
    complaint = check.link.followup.complaint
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey_answer(
                token=token,
                solved={"yes": True, "no": False}[data["solved"]],
                level=data["level"],
                comments=data["comments"],
                suggestions=data["suggestions"],
            )
        except SurveyLinkRefused as exc:
            return _refused(request, exc.state)
        except ValidationFailed as exc:
            for field, messages in exc.errors.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            return render(request, "portal/survey_done.html", {"complaint": complaint})
    status = 400 if request.method == "POST" else 200
    return render(request, "portal/survey.html", {"form": form, "complaint": complaint}, status=status)

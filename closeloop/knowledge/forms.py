"""The desk's article form and search form."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from closeloop.directory.models import ProductLine
from closeloop.knowledge.services import ArticleData


def _line_choices() -> list[tuple[str, str]]:
    return [("", str(_("every product line"))), *((line.code, str(line.label)) for line in ProductLine.objects.all())]


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    line = forms.ChoiceField(label=_("Product line"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["line"]).choices = _line_choices()


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    product_line = forms.ChoiceField(label=_("Product line"), required=False)
    models_text = forms.CharField(
        label=_("Models"), required=False, max_length=300, help_text=_("Model numbers, separated by spaces.")
    )
    symptoms = forms.CharField(label=_("Symptoms"), widget=forms.Textarea(attrs={"rows": 3}))
    cause = forms.CharField(label=_("Cause"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    steps = forms.CharField(
        label=pgettext_lazy("knowledge article", "Steps"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One step per line, in order."),
    )
    tags = forms.CharField(label=_("Tags"), required=False, max_length=330, help_text=_("Separated by commas."))
    is_published = forms.BooleanField(label=_("Published (customers see it on the portal)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["product_line"]).choices = _line_choices()

    def data_for_service(self) -> ArticleData:
        data = self.cleaned_data
        return ArticleData(
            title=data["title"],
            symptoms=data["symptoms"],
            cause=data["cause"],
            steps=data["steps"].splitlines(),
            product_line=data["product_line"],
            tags=[tag for part in data["tags"].replace("，", ",").split(",") if (tag := part.strip())],
            models_text=data["models_text"],
            is_published=data["is_published"],
        )


def initial_of(article: Any) -> dict[str, Any]:
    return {
        "title": article.title,
        "product_line": article.product_line.code if article.product_line else "",
        "models_text": article.models_text,
        "symptoms": article.symptoms,
        "cause": article.cause,
        "steps": "\n".join(article.steps),
        "tags": ", ".join(article.tags),
        "is_published": article.is_published,
    }

"""The portal's self-service help (/portal/help/): the published articles, searchable, for customers
without an account. Drafts are never shown (a draft's address answers 404)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from closeloop.knowledge import selectors
from closeloop.knowledge.forms import SearchForm
from closeloop.knowledge.models import Article

PAGE_SIZE = 20


@require_GET
def help_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    q = line = ""
    if form.is_valid():
        q, line = form.cleaned_data["q"], form.cleaned_data["line"]
    page = Paginator(selectors.articles_search(q=q, product_line=line), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "knowledge/portal_list.html", {"form": form, "page": page, "q": q})


@require_GET
def help_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        article = selectors.article_get(pk=pk)
    except Article.DoesNotExist:
        raise Http404 from None
    return render(request, "knowledge/portal_detail.html", {"article": article})

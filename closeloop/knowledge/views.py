"""Desk pages of the knowledge base (/desk/kb/): list and search, one article, create and edit. Thin:
selectors read, services write. The portal's pages are in portal_views.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from closeloop import authz
from closeloop.core.errors import DomainError
from closeloop.core.forms_ui import add_domain_errors, refusal_status
from closeloop.core.types import AuthenticatedHttpRequest
from closeloop.knowledge import selectors, services
from closeloop.knowledge.forms import ArticleForm, SearchForm, initial_of
from closeloop.knowledge.models import Article

PAGE_SIZE = 30


def _require_read(request: AuthenticatedHttpRequest) -> None:
    if not authz.allowed(request.user, "knowledge.read_articles"):
        raise PermissionDenied(_("Your role does not read the knowledge base."))


@login_required
@require_GET
def article_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The articles, drafts included, searched by words or a model number; an htmx request gets the results
    only. A fixed number of queries whatever the page (tests/knowledge)."""
    _require_read(request)
    form = SearchForm(request.GET)
    q = line = ""
    if form.is_valid():
        q, line = form.cleaned_data["q"], form.cleaned_data["line"]
    page = Paginator(selectors.articles_search(q=q, product_line=line, published_only=False), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"form": form, "page": page, "q": q, "may_edit": services.may_edit(request.user)}
    template = "knowledge/_results.html" if request.headers.get("HX-Request") else "knowledge/list.html"
    return render(request, template, context)


@login_required
@require_GET
def article_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_read(request)
    try:
        article = selectors.article_get(pk=pk, published_only=False)
    except Article.DoesNotExist:
        raise Http404 from None
    return render(request, "knowledge/detail.html", {"article": article, "may_edit": services.may_edit(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    """New article (no pk) or an existing one; the form comes back with field errors and nothing typed lost."""
    if not services.may_edit(request.user):
        raise PermissionDenied(_("Only CS supervisors, quality and administrators write knowledge-base articles."))
    article = None
    if pk is not None:
        try:
            article = selectors.article_get(pk=pk, published_only=False)
        except Article.DoesNotExist:
            raise Http404 from None
    status = 200
    if request.method == "POST":
        form = ArticleForm(request.POST)
        status = 422
        if form.is_valid():
            data = form.data_for_service()
            try:
                if article is None:
                    article = services.article_create(actor=request.user, data=data)
                else:
                    article = services.article_update(actor=request.user, article=article, data=data)
            except DomainError as exc:
                add_domain_errors(form, exc)
                status = refusal_status(exc)
            else:
                messages.success(request, _("The article is saved."))
                return redirect("knowledge:detail", pk=article.pk)
    else:
        form = ArticleForm(initial=initial_of(article) if article else {})
    return render(request, "knowledge/form.html", {"form": form, "article": article}, status=status)

"""The knowledge base over REST: list and search, one article, create, update. Thin: selectors read,
services write."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Status

from closeloop import authz
from closeloop.core.api_responses import ONE_ERRORS, ONE_WRITE_ERRORS, READ_ERRORS, WRITE_ERRORS
from closeloop.core.api_since import UpdatedSince, updated_since
from closeloop.core.schema import Schema
from closeloop.core.types import User
from closeloop.knowledge import selectors, services
from closeloop.knowledge.models import Article

router = Router(tags=["knowledge"])


class ArticleOut(Schema):
    id: int
    title: str
    product_line: str | None = Field(description="the product line's code; null: every line")
    models_text: str = Field(description="the model numbers it is about, separated by spaces")
    symptoms: str
    cause: str
    steps: list[str] = Field(description="in order")
    tags: list[str]
    is_published: bool = Field(description="published articles are shown to customers on the portal")
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ArticlePage(Schema):
    items: list[ArticleOut]
    count: int


class ArticleFilters(Schema):
    q: str = Field(
        "",
        max_length=100,
        description="words of the title, symptoms, cause, steps or tags, or a model number "
        "(case, spaces and dashes ignored)",
    )
    product_line: str = Field("", max_length=40, description="a line's code: its articles and those for every line")
    published: bool | None = Field(None, description="true: only published; false: only drafts")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)


class ArticleIn(Schema):
    title: str = Field(..., max_length=200)
    symptoms: str = Field(..., max_length=5000)
    steps: list[str] = Field(..., description="in order; at least one")
    cause: str = Field("", max_length=5000)
    product_line: str = Field("", max_length=40, description="a line's code; empty: every line")
    tags: list[str] = Field(default_factory=list)
    models_text: str = Field("", max_length=300)
    is_published: bool = False


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]  # the user, put there by the API's authentication


def _out(article: Article) -> dict[str, Any]:
    return {
        "id": article.pk,
        "title": article.title,
        "product_line": article.product_line.code if article.product_line else None,
        "models_text": article.models_text,
        "symptoms": article.symptoms,
        "cause": article.cause,
        "steps": list(article.steps),
        "tags": list(article.tags),
        "is_published": article.is_published,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


def _data(payload: ArticleIn) -> services.ArticleData:
    return services.ArticleData(**payload.dict())


@router.get("/knowledge/articles", response={200: ArticlePage, **READ_ERRORS}, summary="Knowledge-base articles")
def article_list(request: HttpRequest, filters: Query[ArticleFilters], since: Query[UpdatedSince]) -> dict[str, Any]:
    """The knowledge base's articles, drafts included, searched by words or a model number and by product
    line, by title; any staff role (knowledge.read_articles, 403 otherwise). Two queries whatever the page."""
    authz.require(_user(request), "knowledge.read_articles")
    queryset = selectors.articles_search(q=filters.q, product_line=filters.product_line, published_only=False)
    if filters.published is not None:
        queryset = queryset.filter(is_published=filters.published)
    queryset = updated_since(queryset, since)
    page = list(queryset[filters.offset : filters.offset + filters.limit])
    return {"items": [_out(a) for a in page], "count": queryset.count()}


@router.get("/knowledge/articles/{pk}", response={200: ArticleOut, **ONE_ERRORS}, summary="One article")
def article_get(request: HttpRequest, pk: int) -> dict[str, Any]:
    """One article, draft or published, for any staff role (knowledge.read_articles). An unknown id is a 404."""
    authz.require(_user(request), "knowledge.read_articles")
    return _out(selectors.article_get(pk=pk, published_only=False))


@router.post("/knowledge/articles", response={201: ArticleOut, **WRITE_ERRORS}, summary="Write an article")
def article_create(request: HttpRequest, payload: ArticleIn) -> Status:
    """Writes a new article, a draft unless `is_published` (CS supervisors, quality and administrators:
    knowledge.edit_articles, 403 otherwise). A missing title, symptoms or steps, or an unknown product line,
    is a 422 naming the field."""
    article = services.article_create(actor=_user(request), data=_data(payload))
    return Status(201, _out(selectors.article_get(pk=article.pk, published_only=False)))


@router.put("/knowledge/articles/{pk}", response={200: ArticleOut, **ONE_WRITE_ERRORS}, summary="Change an article")
def article_update(request: HttpRequest, pk: int, payload: ArticleIn) -> dict[str, Any]:
    """Replaces an article's text, steps, tags and published flag (knowledge.edit_articles). Field errors as
    on creation (422); an unknown id is a 404."""
    user = _user(request)
    article = selectors.article_get(pk=pk, published_only=False)
    services.article_update(actor=user, article=article, data=_data(payload))
    return _out(selectors.article_get(pk=pk, published_only=False))

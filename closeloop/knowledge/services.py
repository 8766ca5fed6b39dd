"""Writing articles: one service for the desk's form and the API, validation and permission first."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from closeloop import authz
from closeloop.core.errors import ValidationFailed
from closeloop.core.types import User
from closeloop.directory.models import ProductLine
from closeloop.knowledge.models import Article
from closeloop.knowledge.search import search_text

TITLE_MAX = 200
TEXT_MAX = 5000
STEPS_MAX = 30
TAGS_MAX = 10
TAG_MAX = 30


@dataclass
class ArticleData:
    title: str
    symptoms: str
    steps: list[str]
    cause: str = ""
    product_line: str = ""  # a line's code; empty: every line
    tags: list[str] = field(default_factory=list)
    models_text: str = ""
    is_published: bool = False


def may_edit(user: User | None) -> bool:
    return authz.allowed(user, "knowledge.edit_articles")


def _clean(data: ArticleData) -> tuple[dict[str, object], ProductLine | None]:
    errors: dict[str, list[str]] = {}
    title, symptoms, cause = data.title.strip(), data.symptoms.strip(), data.cause.strip()
    steps = [step.strip() for step in data.steps if step.strip()]
    tags = list(dict.fromkeys(tag.strip() for tag in data.tags if tag.strip()))
    if not title:
        errors["title"] = [_("Give the article a title.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("At most %(limit)s characters.") % {"limit": TITLE_MAX}]
    if not symptoms:
        errors["symptoms"] = [_("Describe what the customer sees.")]
    for name, value in (("symptoms", symptoms), ("cause", cause)):
        if len(value) > TEXT_MAX and name not in errors:
            errors[name] = [_("At most %(limit)s characters.") % {"limit": TEXT_MAX}]
    if not steps:
        errors["steps"] = [_("Give at least one step.")]
    elif len(steps) > STEPS_MAX or any(len(step) > TEXT_MAX for step in steps):
        errors["steps"] = [
            _("At most %(count)s steps, each of at most %(limit)s characters.")
            % {"count": STEPS_MAX, "limit": TEXT_MAX}
        ]
    if len(tags) > TAGS_MAX or any(len(tag) > TAG_MAX for tag in tags):
        errors["tags"] = [
            _("At most %(count)s tags, each of at most %(limit)s characters.") % {"count": TAGS_MAX, "limit": TAG_MAX}
        ]
    if len(data.models_text.strip()) > 300:
        errors["models_text"] = [_("At most %(limit)s characters.") % {"limit": 300}]
    line = None
    if data.product_line:
        line = ProductLine.objects.filter(code=data.product_line).first()
        if line is None:
            errors["product_line"] = [_("There is no such product line.")]
    if errors:
        raise ValidationFailed(errors)
    values: dict[str, object] = {
        "title": title,
        "symptoms": symptoms,
        "cause": cause,
        "steps": steps,
        "tags": tags,
        "models_text": " ".join(data.models_text.split()),
        "is_published": data.is_published,
        "search_text": search_text(
            title=title, symptoms=symptoms, cause=cause, steps=steps, tags=tags, models=data.models_text
        ),
    }
    return values, line


def article_create(*, actor: User, data: ArticleData) -> Article:
    authz.require(actor, "knowledge.edit_articles")
    values, line = _clean(data)
    return Article.objects.create(product_line=line, created_by=actor, **values)


def article_update(*, actor: User, article: Article, data: ArticleData) -> Article:
    authz.require(actor, "knowledge.edit_articles")
    values, line = _clean(data)
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.product_line = line
        locked.save()
    return locked

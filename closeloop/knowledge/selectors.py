"""Reading articles: the desk and the API see drafts too, customers only what is published."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from closeloop.knowledge.models import Article
from closeloop.knowledge.search import normalise


def articles_search(*, q: str = "", product_line: str = "", published_only: bool = True) -> QuerySet[Article]:
    """Articles whose title, symptoms, cause, steps, tags or models contain `q` (case, spaces and dashes
    ignored), optionally of one product line (its own articles and those for every line). One query."""
    queryset = Article.objects.select_related("product_line")
    if published_only:
        queryset = queryset.filter(is_published=True)
    if product_line:
        queryset = queryset.filter(Q(product_line__code=product_line) | Q(product_line__isnull=True))
    term = normalise(q)
    if term:
        # The column is stored normalised: a plain LIKE on it, which the trigram index answers.
        queryset = queryset.filter(search_text__contains=term)
    return queryset.order_by("title", "id")


def article_get(*, pk: int, published_only: bool = True) -> Article:
    queryset = Article.objects.select_related("product_line")
    if published_only:
        queryset = queryset.filter(is_published=True)
    return queryset.get(pk=pk)  # DoesNotExist → 404

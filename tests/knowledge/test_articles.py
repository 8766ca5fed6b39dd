"""The knowledge base: writing articles (field errors, permissions), searching them (Chinese substrings,
model numbers without dashes, in one query), the desk pages, the API and the portal's self-service help."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from closeloop.core.errors import PermissionDeniedError, ValidationFailed
from closeloop.directory.models import ProductLine
from closeloop.knowledge import selectors, services
from closeloop.knowledge.demo import ARTICLES, demo_articles
from closeloop.knowledge.models import Article
from closeloop.knowledge.search import normalise
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def line() -> ProductLine:
    return ProductLine.objects.get_or_create(code="ceiling", defaults={"name": "吸顶灯", "name_en": "Ceiling lights"})[
        0
    ]


def _data(**overrides: Any) -> services.ArticleData:
    values: dict[str, Any] = {
        "title": "吸顶灯开灯后闪烁",
        "symptoms": "开灯后灯光一闪一闪",
        "steps": ["断电 5 分钟后再开", "检查驱动电源插头"],
        "cause": "驱动电源接触不良",
        "product_line": "ceiling",
        "tags": ["闪烁", "驱动电源"],
        "models_text": "XD-1001 XD-1002",
        "is_published": True,
    }
    return services.ArticleData(**{**values, **overrides})


def test_normalise_drops_case_spaces_and_dashes() -> None:
    assert normalise("xd-1001") == normalise("XD 1001") == normalise("XD－1001") == "XD1001"


def test_a_supervisor_writes_an_article_and_it_is_found_by_words_and_by_model(
    supervisor: User, line: ProductLine
) -> None:
    article = services.article_create(actor=supervisor, data=_data())

    assert article.steps == ["断电 5 分钟后再开", "检查驱动电源插头"]
    for term in ("闪烁", "一闪", "驱动电源插头", "xd1002", "XD-1001", "xd 1001"):
        assert list(selectors.articles_search(q=term)) == [article], term
    assert list(selectors.articles_search(q="床垫")) == []
    assert list(selectors.articles_search(q="闪烁", product_line="sofa")) == []
    assert list(selectors.articles_search(q="闪烁", product_line="ceiling")) == [article]


def test_bad_input_gives_field_errors_and_writes_nothing(supervisor: User, line: ProductLine) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.article_create(
            actor=supervisor, data=_data(title=" ", symptoms="", steps=["  "], product_line="no-such-line")
        )

    assert set(refused.value.errors) == {"title", "symptoms", "steps", "product_line"}
    assert not Article.objects.exists()


def test_an_agent_may_read_but_not_write(agent: User, line: ProductLine) -> None:
    with pytest.raises(PermissionDeniedError):
        services.article_create(actor=agent, data=_data())


def test_drafts_are_not_published(supervisor: User, line: ProductLine) -> None:
    draft = services.article_create(actor=supervisor, data=_data(is_published=False))

    assert list(selectors.articles_search(q="闪烁")) == []
    assert list(selectors.articles_search(q="闪烁", published_only=False)) == [draft]


def test_the_search_is_one_query_whatever_the_number_of_articles(
    supervisor: User, line: ProductLine, django_assert_num_queries: Any
) -> None:
    for index in range(30):
        services.article_create(actor=supervisor, data=_data(title=f"闪烁问题 {index}"))

    with django_assert_num_queries(1):
        found = list(selectors.articles_search(q="闪烁", product_line="ceiling"))
    assert len(found) == 30


def test_the_demo_has_a_dozen_articles_and_runs_twice() -> None:
    for code in {row[0] for row in ARTICLES}:
        ProductLine.objects.get_or_create(code=code, defaults={"name": code, "name_en": code})

    assert demo_articles() == len(ARTICLES) >= 12
    assert demo_articles() == 0
    assert selectors.articles_search(q="td1002").count() == 1


def test_the_desk_pages(client: Client, supervisor: User, agent: User, line: ProductLine) -> None:
    client.force_login(supervisor)
    created = client.post(
        "/desk/kb/new/",
        {
            "title": "筒灯开孔尺寸",
            "product_line": "ceiling",
            "symptoms": "新灯放不进开孔",
            "steps": "测量开孔\n扩孔",
            "tags": "安装，开孔",
            "is_published": "on",
        },
    )
    assert created.status_code == 302
    article = Article.objects.get()
    assert article.steps == ["测量开孔", "扩孔"] and article.tags == ["安装", "开孔"]

    refused = client.post(f"/desk/kb/{article.pk}/edit/", {"title": "筒灯开孔尺寸", "symptoms": "", "steps": "x"})
    assert refused.status_code == 422
    assert "筒灯开孔尺寸" in refused.content.decode()  # nothing typed is lost

    client.force_login(agent)
    listed = client.get("/desk/kb/", {"q": "开孔"})
    assert listed.status_code == 200 and "筒灯开孔尺寸" in listed.content.decode()
    assert client.get(f"/desk/kb/{article.pk}/").status_code == 200
    assert client.get("/desk/kb/new/").status_code == 403


def test_the_desk_list_has_a_fixed_number_of_queries(
    client: Client, supervisor: User, line: ProductLine, count_queries: Callable[[], Any]
) -> None:
    client.force_login(supervisor)
    counts = []
    for batch in range(2):
        for index in range(10):
            services.article_create(actor=supervisor, data=_data(title=f"问题 {batch}-{index}"))
        with count_queries() as counter:
            assert client.get("/desk/kb/").status_code == 200
        counts.append(len(counter))
    assert counts[0] == counts[1]


def test_the_portal_shows_published_articles_only(client: Client, supervisor: User, line: ProductLine) -> None:
    published = services.article_create(actor=supervisor, data=_data())
    draft = services.article_create(actor=supervisor, data=_data(title="内部草稿", is_published=False))

    page = client.get("/portal/help/", {"q": "xd-1001"})

    assert page.status_code == 200
    assert published.title in page.content.decode() and draft.title not in page.content.decode()
    assert client.get(f"/portal/help/{published.pk}/").status_code == 200
    assert client.get(f"/portal/help/{draft.pk}/").status_code == 404


def test_the_api(supervisor: User, agent: User, line: ProductLine, api_client_for: Callable[[User], ApiClient]) -> None:
    writer, reader = api_client_for(supervisor), api_client_for(agent)
    body = {
        "title": "落地灯遥控器失灵",
        "symptoms": "遥控没反应",
        "steps": ["换电池", "对码"],
        "models_text": "LD-1001",
    }

    created = writer.post_json("/api/v1/knowledge/articles", body)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert reader.post_json("/api/v1/knowledge/articles", body).status_code == 403
    bad = writer.post_json("/api/v1/knowledge/articles", {**body, "steps": []})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "steps"]

    found = reader.get("/api/v1/knowledge/articles", {"q": "ld1001"}).json()
    assert [item["id"] for item in found["items"]] == [pk] and found["count"] == 1
    updated = writer.put(
        f"/api/v1/knowledge/articles/{pk}", {**body, "is_published": True}, content_type="application/json"
    )
    assert updated.status_code == 200 and updated.json()["is_published"] is True
    assert reader.get(f"/api/v1/knowledge/articles/{pk}").json()["steps"] == ["换电池", "对码"]

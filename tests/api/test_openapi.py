"""The OpenAPI document and the docs page: valid 3.x, served with local assets only."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.test import Client

from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_schema_loads_and_is_valid_openapi_3(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(document).validate()  # raises on a document that breaks the spec
    paths = document["paths"]
    for path in (
        "/api/v1/complaints",
        "/api/v1/complaints/{number}",
        "/api/v1/complaints/{number}/attachments",
        "/api/v1/complaints/{number}/acknowledge",
        "/api/v1/complaints/{number}/resolve",
        "/api/v1/complaints/{number}/invalidate",
        "/api/v1/complaints/{number}/mark-duplicate",
        "/api/v1/complaints/{number}/transitions",
        "/api/v1/lifecycle",
        "/api/v1/catalogue/types",
        "/api/v1/catalogue/products",
        "/api/v1/catalogue/departments",
    ):
        assert path in paths, path
    assert paths["/api/v1/complaints"]["post"]["responses"].keys() >= {"201", "403", "422"}
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["ApiTokenAuth"].items()


def test_docs_use_local_swagger_assets(client: Client) -> None:
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    external = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", html)
    assert external == []
    assert "cdn" not in html.lower()
    # …and the assets are really there (served by whitenoise from the installed package).
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_catalogue(agent_api: ApiClient, product: object) -> None:
    types = agent_api.get("/api/v1/catalogue/types").json()
    assert "quality" in {t["code"] for t in types}
    assert next(t for t in types if t["code"] == "quality")["default_department"] == "quality"

    departments = agent_api.get("/api/v1/catalogue/departments").json()
    assert {"quality", "tech"} <= {d["code"] for d in departments}

    products = agent_api.get("/api/v1/catalogue/products", {"q": "xd-1"}).json()
    assert products["count"] == 1
    assert products["items"][0] == {**products["items"][0], "model": "XD-100", "line": "ceiling"}
    assert agent_api.get("/api/v1/catalogue/products", {"q": "nothing-like-it"}).json() == {"items": [], "count": 0}
    assert agent_api.get("/api/v1/catalogue/products", {"limit": 500}).status_code == 422


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def test_every_schema_has_a_name_of_its_own() -> None:
    """The document names each component by its class name alone: two schemas of one name (a StepOut
    for postponements and one for reports) made the later one document both responses."""
    from ninja import Schema

    import closeloop.api  # noqa: F401  (every router and its schemas)

    ours = [cls for cls in _subclasses(Schema) if cls.__module__.startswith("closeloop.")]
    by_name: dict[str, set[str]] = {}
    for cls in ours:
        by_name.setdefault(cls.__name__, set()).add(cls.__module__)

    assert {name: modules for name, modules in by_name.items() if len(modules) > 1} == {}


def test_the_document_is_built_once_per_process(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ninja builds the document on every call (seconds with ~180 operations); ours builds it on the first
    request and serves that one afterwards."""
    import ninja.main

    from closeloop.api import api

    monkeypatch.setattr(api, "_documents", {})  # as a freshly started process has it
    builds = []
    build = ninja.main.get_schema

    def counted(**kwargs: object) -> object:
        builds.append(kwargs["path_prefix"])
        return build(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ninja.main, "get_schema", counted)

    first = client.get("/api/v1/openapi.json")
    second = client.get("/api/v1/openapi.json")

    assert first.status_code == second.status_code == 200
    assert builds == ["/api/v1/"]
    assert first.content == second.content
    # The finishing touches are in the cached document, not added again to each copy.
    post = first.json()["paths"]["/api/v1/complaints"]["post"]
    assert [p["name"] for p in post["parameters"]].count("Idempotency-Key") == 1


def test_a_caller_changing_its_copy_changes_nothing_for_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    from closeloop.api import api

    monkeypatch.setattr(api, "_documents", {})
    mine = api.get_openapi_schema(path_prefix="/api/v1/")
    mine["paths"]["/api/v1/complaints"]["post"]["responses"].clear()
    mine["info"]["title"] = "changed"

    theirs = api.get_openapi_schema(path_prefix="/api/v1/")

    assert theirs["info"]["title"] == "CloseLoop API"
    assert theirs["paths"]["/api/v1/complaints"]["post"]["responses"] != {}
    assert len(api._documents) == 1

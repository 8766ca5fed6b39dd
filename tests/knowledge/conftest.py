"""The API fixtures for the knowledge base tests."""

from tests.api.conftest import api_client_for  # noqa: F401 - fixture

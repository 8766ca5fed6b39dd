"""The API fixtures for the canned-reply tests."""

from tests.api.conftest import api_client_for  # noqa: F401 - fixture

"""The API's fixtures (a token per user, a client that sends it) for the feed and webhook tests."""

from tests.api.conftest import agent_api, api_client_for  # noqa: F401 - fixtures

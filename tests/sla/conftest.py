"""API fixtures for the SLA tests."""

from tests.api.conftest import agent_api, api_client_for  # noqa: F401

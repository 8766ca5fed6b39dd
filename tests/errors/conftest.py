"""Fixtures for the error tests: the handling people and a feedback form open on a dispatched complaint
(the handling tests' own fixtures, shared rather than copied)."""

from __future__ import annotations

from tests.api.conftest import agent_api, api_client_for  # noqa: F401
from tests.desk.conftest import client_for  # noqa: F401
from tests.handling.conftest import dispatched, people, quality_dept, tech_dept  # noqa: F401
from tests.handling.feedback.conftest import api_for, opened  # noqa: F401

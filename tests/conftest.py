"""Shared fixtures: users for every role, reference data, and a complaint maker that goes through
the intake service (never through the ORM directly, so tests exercise the real write path)."""

from __future__ import annotations

import datetime
import itertools
import logging
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import settings as hypothesis_settings

from closeloop.accounts.testing import verify_session
from closeloop.accounts.twofactor import has_device, two_factor_required
from closeloop.complaints.models import Complaint
from closeloop.complaints.services import IntakeData, complaint_register
from closeloop.core.roles import Role
from closeloop.directory.models import Department, Membership, Product, ProductLine

PASSWORD = "test-pass-123"

# In CI every property-based test runs the same examples each time (a red build must mean a change,
# not bad luck); locally they explore new ones on every run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    hypothesis_settings.load_profile("ci")


# Every database connection this process opens, in any thread. The live server's request threads keep
# theirs between requests (DB_CONN_MAX_AGE) for as long as a client keeps its socket open; a test that
# needs the database to itself (a restore) closes them with `other_threads_connections_closed`.
_OPEN_CONNECTIONS: weakref.WeakSet[BaseDatabaseWrapper] = weakref.WeakSet()
_OPEN_CONNECTIONS_LOCK = threading.Lock()


def _remember_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    with _OPEN_CONNECTIONS_LOCK:
        _OPEN_CONNECTIONS.add(connection)


connection_created.connect(_remember_connection, weak=False, dispatch_uid="tests-open-connections")


def close_other_threads_connections() -> int:
    """What stopping the web and worker does before a restore: every connection another thread of this
    process holds (the live server's, after an earlier test) is closed; gives back how many. Django lets
    one thread close another's connection once it is marked shared."""
    with _OPEN_CONNECTIONS_LOCK:
        held = [db for db in _OPEN_CONNECTIONS if db.connection is not None and connections[db.alias] is not db]
    for db in held:
        db.inc_thread_sharing()
        try:
            db.close()
        finally:
            db.dec_thread_sharing()
    return len(held)


@pytest.fixture
def other_threads_connections_closed() -> None:
    close_other_threads_connections()


@pytest.fixture(scope="session")
def live_server(django_db_setup: None, live_server: Any) -> Iterator[Any]:
    """pytest-django's live server, started after the test database (so stopped before it is dropped);
    at its end the connections its keep-alive threads still hold are closed: PostgreSQL refuses to drop
    a database while a session is open."""
    yield live_server
    close_other_threads_connections()


# scripts/test.sh runs the suite on SQLite, then again on PostgreSQL with CLOSELOOP_TEST_SECOND_DATABASE=true.
# The second run repeats every test that can answer differently there: each one that touches the
# database (the django_db mark or a database fixture), each marked `postgres`, and each in a module that
# reads the configured database otherwise (the words below: a subprocess given DATABASE_URL, a check of
# the vendor). The rest — the calendar's properties, the layers, the catalogue — ran once already.
SECOND_DATABASE = os.environ.get("CLOSELOOP_TEST_SECOND_DATABASE") == "true"
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}
READS_THE_DATABASE = re.compile(r"DATABASES|DATABASE_URL|connection|vendor|postgres", re.IGNORECASE)


def _touches_the_database(item: Any, sources: dict[str, bool]) -> bool:
    if item.get_closest_marker("django_db") or item.get_closest_marker("postgres"):
        return True
    if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    path = str(item.fspath)
    if path not in sources:
        with open(path, encoding="utf-8") as module:
            sources[path] = bool(READS_THE_DATABASE.search(module.read()))
    return sources[path]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if not SECOND_DATABASE:
        return
    sources: dict[str, bool] = {}
    kept = [item for item in items if _touches_the_database(item, sources)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in set(kept)])
        items[:] = kept


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


# Data migrations whose rows the flush at the end of a transactional test removes.
DATA_MIGRATIONS = (
    "closeloop.directory.migrations.0002_reference_data",
    "closeloop.directory.migrations.0005_cause_categories",
    "closeloop.sla.migrations.0002_default_calendars_and_policies",
    "closeloop.sla.migrations.0008_six_day_week_for_dealers_and_stores",
    "closeloop.handling.migrations.0002_defaults",
    "closeloop.notifications.migrations.0003_default_message_templates",
    "closeloop.notifications.migrations.0006_write_to_customer_templates",
    "closeloop.followup.migrations.0002_satisfaction_scales",
    "closeloop.insight.migrations.0002_default_targets",
    "closeloop.defects.migrations.0002_default_rule",
)


def _is_transactional(request: Any) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request: Any) -> None:
    """A transactional test (threads, live server) starts after an earlier one's flush emptied every
    table; the role groups come back with post_migrate, the reference rows by re-running the
    idempotent data migrations."""
    if not _is_transactional(request):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for module in DATA_MIGRATIONS:
        importlib.import_module(module).forwards(apps, None)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """Hashing a password the production way takes ~0.3 s; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_reference_cache() -> None:
    """Each test's database rolls back under the per-process reference cache; start every test empty."""
    from closeloop.core import refcache

    refcache.clear()


@pytest.fixture(autouse=True)
def _fresh_cache_namespace() -> Any:
    """Rate limits live in the cache, shared by the test workers in the Redis run: each test gets keys
    of its own instead of emptying a cache another worker is counting in."""
    import uuid

    from django.core.cache import cache

    previous = cache.key_prefix
    cache.key_prefix = f"t{uuid.uuid4().hex[:12]}"
    yield
    cache.key_prefix = previous


# What no log line at INFO or above may hold: a whole mainland mobile number, an e-mail address.
LEAKING_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LEAKING_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Identifiers are read past: a random UUID's last group can hold eleven digits that look like a mobile
# number (huey logged task `75bf9c7b-a298-4c0e-8841-b18010854700`, and the guard failed a passing test).
IDENTIFIERS = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b[0-9a-f]{32}\b", re.I)


class LogRecorder(logging.Handler):
    """Keeps every record it is given, formatted as a log file would show it (message and traceback)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def personal_data_in(lines: list[str]) -> list[str]:
    return [
        line for line in lines if LEAKING_MOBILE.search(text := IDENTIFIERS.sub("", line)) or LEAKING_EMAIL.search(text)
    ]


@pytest.fixture(autouse=True)
def _no_personal_data_in_the_logs() -> Any:
    """Every test guards the logs: whatever it makes the application log at INFO or above (the production
    level) must not hold a phone number or an e-mail address (docs/decisions.md, "Go-live: personal data")."""
    recorder = LogRecorder(logging.INFO)
    root = logging.getLogger()
    root.addHandler(recorder)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
    leaks = personal_data_in(recorder.lines)
    if leaks:
        pytest.fail("personal data in the log:\n" + "\n".join(leaks[:5]), pytrace=False)


_force_login_without_second_factor = Client.force_login


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch: Any) -> None:
    """`client.force_login(user)` and `client.login(...)` stand for a completed login: the password
    and, for a user whose role requires it (or who has an authenticator), the second factor. Tests
    of the second factor itself log in through /login/ or with `login_without_second_factor`."""

    def force_login(self: Client, user: User, backend: str | None = None) -> None:
        _force_login_without_second_factor(self, user, backend)
        if two_factor_required(user) or has_device(user):
            verify_session(self, user)

    def login(self: Client, **credentials: Any) -> bool:
        # Django's client.login() authenticates without a request; the lockout backend needs one
        # (the client's address is what it counts), as the login view gives it.
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        user = authenticate(request, **credentials)
        if user is None:
            return False
        force_login(self, user, user.backend)
        return True

    monkeypatch.setattr(Client, "force_login", force_login)
    monkeypatch.setattr(Client, "login", login)


@pytest.fixture
def login_without_second_factor() -> Callable[[Client, User], None]:
    """Log a test client in with the password alone, as a login path other than the desk's would."""

    def login(client: Client, user: User) -> None:
        _force_login_without_second_factor(client, user)

    return login


@pytest.fixture
def department(db: None) -> Department:
    return Department.objects.get(code="quality")


@pytest.fixture
def other_department(db: None) -> Department:
    return Department.objects.get(code="tech")


@pytest.fixture
def product(db: None) -> Product:
    line, _ = ProductLine.objects.get_or_create(
        code="ceiling", defaults={"name": "吸顶灯", "name_en": "Ceiling lights"}
    )
    return Product.objects.get_or_create(
        model="XD-100", defaults={"line": line, "name": "LED吸顶灯", "name_en": "LED ceiling light"}
    )[0]


_user_seq = itertools.count(1)


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(
        role: Role | str,
        *,
        departments: list[Department] | None = None,
        manager: bool = False,
        username: str | None = None,
    ) -> User:
        user = User.objects.create_user(username or f"{role}{next(_user_seq)}", password=PASSWORD)
        user.groups.add(Group.objects.get(name=str(role)))
        for dept in departments or []:
            Membership.objects.create(user=user, department=dept, is_manager=manager)
        return user

    return make


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, username="agent")


@pytest.fixture
def supervisor(make_user: Callable[..., User]) -> User:
    return make_user(Role.CS_SUPERVISOR, username="supervisor")


@pytest.fixture
def handler(make_user: Callable[..., User], department: Department) -> User:
    return make_user(Role.HANDLER, departments=[department], username="handler")


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user(Role.AUDITOR, username="auditor")


_phone_seq = itertools.count(10000000)


@pytest.fixture
def make_complaint(db: None, agent: User) -> Callable[..., Complaint]:
    """Register a complaint through the intake service. Keyword arguments override IntakeData fields."""

    def make(**overrides: Any) -> Complaint:
        fields: dict[str, Any] = {
            "channel": "hotline",
            "customer_name": "张伟",
            "phone": f"139{next(_phone_seq):08d}",
            "description": "吸顶灯通电后不亮",
            "type_code": "quality",
        }
        actor = overrides.pop("actor", agent)
        via = overrides.pop("via", "desk")
        now = overrides.pop("now", None)
        fields.update(overrides)
        return complaint_register(data=IntakeData(**fields), actor=actor, via=via, now=now)

    return make


class QueryCounter(CaptureQueriesContext):
    @property
    def count(self) -> int:
        return len(self.captured_queries)


@pytest.fixture
def count_queries() -> Callable[[], QueryCounter]:
    return lambda: QueryCounter(connection)


def aware(*args: int) -> datetime.datetime:
    """A datetime in Asia/Shanghai."""
    from zoneinfo import ZoneInfo

    return datetime.datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))

"""SQLite writers queue on the `<database>-writer` lock file (closeloop/core/sqlite/base.py).

Each test opens its own connections (the project's backend and OPTIONS) to a database file of its own,
and drives them as `transaction.atomic` does: the second writer must start only after the first has
committed or rolled back, and must give up with "database is locked" after its timeout."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection

from closeloop.core.sqlite.base import DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's own behaviour")


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker: Any) -> Any:
    """Connections to the test's own file, not to the test database (which these tests never open)."""
    with django_db_blocker.unblock():
        yield


def _wrapper(path: Path, **options: Any) -> DatabaseWrapper:
    settings_dict = {
        **connection.settings_dict,
        "NAME": str(path),
        "OPTIONS": {**connection.settings_dict["OPTIONS"], **options},
    }
    return DatabaseWrapper(settings_dict, alias=f"writer-test-{id(settings_dict)}")


def _begin(db: DatabaseWrapper) -> None:
    """What `transaction.atomic()` does on entering its outermost block."""
    db.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def _end(db: DatabaseWrapper, *, commit: bool = True) -> None:
    db.commit() if commit else db.rollback()
    db.set_autocommit(True)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "writer.sqlite3"
    db = _wrapper(path)
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    db.close()
    return path


def _in_thread(work: Any) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the test's assertions
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _waits_until_released(work: Any, release: Any, log: list[str]) -> Any:
    """Runs `work` in a thread of its own, checks that it is still waiting 0.3 s later, logs "released",
    calls `release()` and gives back what `work` returned."""
    thread, outcome = _in_thread(work)
    thread.join(timeout=0.3)
    assert thread.is_alive(), "it did not wait"
    log.append("released")
    release()
    thread.join(timeout=10)
    assert not thread.is_alive() and len(outcome) == 1
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def test_a_second_writer_begins_only_after_the_first_commits(database: Path) -> None:
    first = _wrapper(database)
    log: list[str] = []
    _begin(first)
    with first.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    log.append("first wrote")

    def write_second() -> int:
        second = _wrapper(database)  # a connection belongs to the thread that made it
        _begin(second)
        log.append("second began")
        with second.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
            seen = cursor.fetchone()[0]
            cursor.execute("INSERT INTO t VALUES (2)")
        _end(second)
        second.close()
        return seen

    seen = _waits_until_released(write_second, lambda: _end(first), log)
    first.close()
    assert log == ["first wrote", "released", "second began"]
    assert seen == 1  # it saw the first writer's committed row


def test_a_rollback_and_a_close_release_the_lock(database: Path) -> None:
    first, second = _wrapper(database, timeout=2), _wrapper(database, timeout=2)
    _begin(first)
    _end(first, commit=False)
    _begin(second)  # would wait two seconds and fail if the rollback had kept the lock
    _end(second)
    _begin(first)
    first.close()  # a connection closed inside its transaction (a killed request) gives it back
    _begin(second)
    _end(second)
    second.close()


def test_a_writer_gives_up_after_its_timeout_as_sqlite_would(database: Path) -> None:
    first, second = _wrapper(database), _wrapper(database, timeout=0.2)
    _begin(first)
    try:
        with pytest.raises(OperationalError, match="database is locked"):
            _begin(second)
        assert second.autocommit  # nothing was begun
    finally:
        _end(first)
        first.close()
        second.close()


def test_a_write_outside_a_transaction_queues_too(database: Path) -> None:
    first = _wrapper(database)
    log: list[str] = []
    _begin(first)

    def autocommit_update() -> None:
        second = _wrapper(database)
        with second.cursor() as cursor:
            cursor.execute("UPDATE t SET n = n + 1")
        log.append("update ran")
        second.close()

    _waits_until_released(autocommit_update, lambda: _end(first), log)
    first.close()
    assert log == ["released", "update ran"]


def test_reads_do_not_queue(database: Path) -> None:
    first, second = _wrapper(database), _wrapper(database, timeout=0.2)
    _begin(first)
    try:
        with second.cursor() as cursor:  # WAL: a reader is never blocked by the writer
            cursor.execute("SELECT count(*) FROM t")
            assert cursor.fetchone() == (0,)
    finally:
        _end(first)
        first.close()
        second.close()


def test_the_lock_file_sits_next_to_the_database(database: Path) -> None:
    db = _wrapper(database)
    _begin(db)
    _end(db)
    db.close()
    assert (database.parent / f"{database.name}-writer").exists()


def test_an_in_memory_database_has_no_lock_file(tmp_path: Path) -> None:
    db = _wrapper(Path(":memory:"))
    with db.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert db._writer_fd is None
    assert not list(tmp_path.iterdir())


def test_writers_queue_on_the_lock_file_itself(database: Path) -> None:
    """Held by another process (here: this test, with SQLite's own locks free), the file keeps a
    transaction and an autocommit write from starting until it is let go."""
    log: list[str] = []
    holder = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)

    def transaction() -> None:
        db = _wrapper(database)
        _begin(db)
        log.append("transaction began")
        _end(db)
        with db.cursor() as cursor:
            cursor.execute("DELETE FROM t")
        log.append("delete ran")
        db.close()

    def release() -> None:
        fcntl.flock(holder, fcntl.LOCK_UN)
        os.close(holder)

    _waits_until_released(transaction, release, log)
    assert log == ["released", "transaction began", "delete ran"]


def _lock_free_at_checkpoints(db: DatabaseWrapper, database: Path) -> list[bool]:
    """Per checkpoint statement the connection runs from now on: was the writer lock free while it ran
    (another descriptor could take it)? Read from SQLite's trace callback."""
    seen: list[bool] = []

    def trace(statement: str) -> None:
        if "wal_checkpoint" not in statement:
            return
        probe = os.open(f"{database}-writer", os.O_RDWR)
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(probe, fcntl.LOCK_UN)
            seen.append(True)
        except BlockingIOError:
            seen.append(False)
        finally:
            os.close(probe)

    db.connection.set_trace_callback(trace)
    return seen


def test_the_log_is_checkpointed_every_few_writes_after_the_lock_is_let_go(database: Path) -> None:
    """SQLite's own checkpoint would run inside COMMIT, while the lock is held (issue 20): it waits for a
    log only bulk work writes, and the connection checkpoints every CHECKPOINT_EVERY write transactions
    once the lock is free."""
    from closeloop.core.sqlite.base import AUTOCHECKPOINT_PAGES, CHECKPOINT_EVERY

    db = _wrapper(database)
    db.ensure_connection()
    with db.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == AUTOCHECKPOINT_PAGES > 1000
    checkpoints = _lock_free_at_checkpoints(db, database)
    for n in range(CHECKPOINT_EVERY - 1):
        _begin(db)
        with db.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (%s)", [n])
        _end(db)
    assert checkpoints == []
    _begin(db)
    with db.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (99)")
    _end(db)
    assert checkpoints == [True]
    db.close()


def test_a_long_log_is_finished_under_the_lock_so_that_it_starts_again(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint without the lock leaves the log growing while others append; past LOG_RESTART_PAGES
    the connection copies the rest holding the lock, and the next writer starts the log afresh."""
    from closeloop.core.sqlite import base

    monkeypatch.setattr(base, "LOG_RESTART_PAGES", 1)
    db, other = _wrapper(database), _wrapper(database)
    db.ensure_connection()
    lock_free_at_checkpoints = _lock_free_at_checkpoints(db, database)
    for n in range(base.CHECKPOINT_EVERY):
        _begin(db)
        with db.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (%s)", [n])
        _end(db)
    assert lock_free_at_checkpoints == [True, False]  # the copy without the lock, then the rest under it
    _begin(other)
    with other.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (100)")
    _end(other)
    with other.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, in_log, _copied = cursor.fetchone()
    assert in_log <= 2  # the log started again: only the last transaction's pages are in it
    db.close()
    other.close()

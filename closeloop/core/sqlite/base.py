"""Django's SQLite backend, with writers that queue on a lock file instead of SQLite's busy handler.

Every write transaction begins `BEGIN IMMEDIATE` (settings: `transaction_mode`), so a second writer waits
while a first one holds the database. SQLite makes it wait in its busy handler, which sleeps 1, 2, 5,
10, 15, 20, 25, … ms between tries, however early the first writer finishes: measured with two gunicorn
workers on one database (issue 20), the second worker slept through most of each 3 ms intake, two
workers registered complaints no faster than one, and an unlucky request waited two seconds.

Here a write transaction first takes an exclusive `flock` on `<database>-writer` (created next to the
database, like its `-wal` and `-shm` files), then begins. A waiting writer tries the lock again after
50 µs, doubling up to 0.5 ms, so it starts within half a millisecond of the other's COMMIT; the kernel
drops the lock of a process that dies. After the connection's `timeout` (the OPTIONS value SQLite's own
wait uses) it fails as SQLite would, with "database is locked", which the outage middleware answers
with 503. A write statement outside a transaction (autocommit: an API token's last use, say) queues
on the same lock for its one statement: on the busy handler it starved while two workers handed the
lock to each other, and waited two seconds. The lock file is only a lock: SQLite's own locks still
guard the data.

Checkpoints (copying the write-ahead log back into the database) run after the lock is released. SQLite
runs its automatic checkpoint inside the COMMIT call that filled the log to 1,000 pages, so it ran while
this connection still held the lock: an intake writes about 80 pages (the complaint, its clocks, events
and their indexes), every 13th COMMIT took 5–8 ms instead of 0.5, and the other workers waited through
it (issue 20). Here the automatic checkpoint waits for a log of AUTOCHECKPOINT_PAGES on a queued
connection (a backstop for bulk work: an import's or a seed's large transactions), and the connection runs a
PASSIVE checkpoint itself after every CHECKPOINT_EVERY write transactions, once it has let go of the
lock: it waits for nobody and a writer may commit while it copies. A log that has grown past
LOG_RESTART_PAGES meanwhile is finished under the lock (`_checkpoint`), so that SQLite starts it again.
SQLite still checkpoints when the last connection closes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base, creation

# The statements that write (SQLite takes its write lock for them); a read needs no queue.
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
FIRST_PAUSE = 0.00005
LONGEST_PAUSE = 0.0005
DEFAULT_TIMEOUT = 5.0  # the sqlite3 module's own default
# Write transactions of one connection between its checkpoints. With two web workers writing, 8 meant a
# checkpoint every ~4 intakes; 32 copies each page a run of intakes rewrites (an index's last leaf) once,
# and cost 0.35 ms of a worker's time per intake instead of 0.53 (issue 20). Past ~40, a log of ~3,500
# pages and more, each checkpoint cost more than the fewer of them saved.
CHECKPOINT_EVERY = 32
# A log this long (pages of 4 KiB) is finished under the lock so that SQLite starts it again (_checkpoint).
LOG_RESTART_PAGES = 4000
# SQLite's own checkpoint, inside COMMIT, only past this (~40 MiB): reached by large transactions alone.
AUTOCHECKPOINT_PAGES = 10_000


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        super()._destroy_test_db(test_database_name, verbosity)  # type: ignore[misc]  # Django has it; django-stubs 5.2 does not
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{test_database_name}-writer")


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _writer_fd: int | None = None
    _writer_held = False
    _writes_since_checkpoint = 0

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        self._writer_fd = None
        self._writer_held = False
        self._writes_since_checkpoint = 0
        mode = getattr(self, "transaction_mode", None)  # Django's, from OPTIONS; not in django-stubs
        if mode == "IMMEDIATE" and not self.is_in_memory_db():
            self._writer_fd = os.open(f"{self.settings_dict['NAME']}-writer", os.O_RDWR | os.O_CREAT, 0o660)
            connection.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")  # ours: _writer_release
        return connection

    def create_cursor(self, name: str | None = None) -> Any:
        if self._writer_fd is None:
            return super().create_cursor(name)
        cursor = self.connection.cursor(factory=WriterQueuedCursor)
        cursor.database = self
        return cursor

    def _start_transaction_under_autocommit(self) -> None:
        self._writer_acquire()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # Django has it; django-stubs 5.2 does not
        except BaseException:
            self._writer_release()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # Django has it; django-stubs 5.2 does not
        finally:
            self._writer_release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # Django has it; django-stubs 5.2 does not
        finally:
            self._writer_release()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # Django has it; django-stubs 5.2 does not
        finally:
            self._writer_release()
            if self._writer_fd is not None:
                os.close(self._writer_fd)
                self._writer_fd = None

    def _writer_acquire(self) -> None:
        fd = self._writer_fd
        if fd is None or self._writer_held:
            return
        deadline = None
        pause = FIRST_PAUSE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                now = time.monotonic()
                if deadline is None:
                    deadline = now + float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_TIMEOUT))
                elif now > deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
            else:
                self._writer_held = True
                return

    def _writer_unlock(self) -> None:
        if self._writer_fd is not None:
            fcntl.flock(self._writer_fd, fcntl.LOCK_UN)
        self._writer_held = False

    def _writer_release(self) -> None:
        """The end of a write transaction: the lock let go, and every CHECKPOINT_EVERY of them a checkpoint."""
        if not self._writer_held:
            return
        self._writer_unlock()
        self._writes_since_checkpoint += 1
        if self._writes_since_checkpoint >= CHECKPOINT_EVERY and self.connection is not None:
            self._writes_since_checkpoint = 0
            with contextlib.suppress(Exception):  # a checkpoint left undone is done by the next one
                self._checkpoint()

    def _checkpoint(self) -> None:
        """Copy the log back without holding the lock. SQLite starts the log again from its beginning
        only when a checkpoint has copied all of it; under constant writing another writer has usually
        appended meanwhile, and the log grew (43,000 pages after a benchmark, every read slower for it).
        So a log grown past LOG_RESTART_PAGES is finished once under the lock, where nothing is appended:
        the pages since the last copy, a moment's wait for the other writers."""
        row = self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if row is None or row[1] < LOG_RESTART_PAGES or self._writer_held:
            return
        self._writer_acquire()
        try:
            self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
        finally:
            self._writer_unlock()  # not _writer_release: this is no write transaction to count


class WriterQueuedCursor(base.SQLiteCursorWrapper):
    """Django's cursor; a write statement in autocommit mode holds the writer lock while it runs."""

    database: DatabaseWrapper

    def execute(self, query: str, params: Any = None) -> Any:
        with self._queued(query):
            return super().execute(query, params)

    def executemany(self, query: str, param_list: Any) -> Any:
        with self._queued(query):
            return super().executemany(query, param_list)

    @contextlib.contextmanager
    def _queued(self, query: str) -> Iterator[None]:
        database = self.database
        if not (database.autocommit and not database._writer_held and query.lstrip()[:7].upper().startswith(WRITES)):
            yield
            return
        database._writer_acquire()
        try:
            yield
        finally:
            database._writer_release()

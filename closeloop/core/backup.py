"""`closeloop backup` / `closeloop restore`: one archive with the database, the media files and a manifest.

Archive layout (a gzip-compressed tar, PAX format so that Chinese file names survive):

    database/closeloop.sqlite3   SQLite: a consistent copy made with the online backup API
    database/closeloop.pgdump    PostgreSQL: `pg_dump --format=custom` of the same snapshot the counts read
    media/<path>                 every file under MEDIA_ROOT (attachments, reports)
    manifest.json                written last: format version, when, vendor, migration state, row counts,
                                 SHA-256 of the dump and of every media file, CloseLoop version

Backups are taken while the application runs: SQLite's backup API copies one read snapshot (in WAL
mode writers go on), PostgreSQL's dump and the row counts read one exported snapshot. Media files are
read after the database snapshot, so every file a backed-up row names is already on disk (the
attachment service writes the file before its row commits); files uploaded meanwhile are harmless extras.

A restore first extracts everything into staging places next to its targets and checks every checksum,
the vendor and the migration state; only then does it replace the database and the media, and it ends by
comparing row counts and media checksums with the manifest. A refusal changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

FORMAT = "closeloop-backup"
FORMAT_VERSION = 1
ARCHIVE_PREFIX = "closeloop-backup-"
ARCHIVE_SUFFIX = ".tar.gz"
MANIFEST = "manifest.json"
DUMP_NAMES = {"sqlite": "database/closeloop.sqlite3", "postgresql": "database/closeloop.pgdump"}
# Staging directories inside MEDIA_ROOT during a restore; never part of a backup.
STAGING_PREFIX = ".closeloop-"
CHUNK = 1024 * 1024
# Tables whose rows mean "this installation is in use" (reference data from migrations does not count).
OCCUPANCY_TABLES = {"complaints_complaint": "complaints", "directory_customer": "customers", "auth_user": "users"}

Log = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message tells the operator what to do."""


class CorruptArchive(BackupError):
    pass


# --- helpers ------------------------------------------------------------------------------------


def closeloop_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("closeloop")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "unknown"


def _default_connection() -> BaseDatabaseWrapper:
    connection = connections["default"]
    if connection.vendor not in DUMP_NAMES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {connection.vendor}.")
    return connection


def counted_tables() -> dict[str, str]:
    """model label → table, for every concrete model of CloseLoop's apps plus users and groups."""
    tables: dict[str, str] = {}
    seen: set[str] = set()
    for config in apps.get_app_configs():
        if not (config.name.startswith("closeloop.") or config.label == "auth"):
            continue
        for model in config.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or meta.db_table in seen:
                continue
            seen.add(meta.db_table)
            tables[meta.label_lower] = meta.db_table
    return dict(sorted(tables.items()))


class _HashingReader(io.RawIOBase):
    """Reads at most `limit` bytes of `source`, hashing them on the way (a file that grows while it is
    read is archived and hashed as it was at `stat` time)."""

    def __init__(self, source: IO[bytes], limit: int) -> None:
        self.source, self.remaining, self.digest, self.size = source, limit, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > self.remaining:
            n = self.remaining
        data = self.source.read(n)
        self.remaining -= len(data)
        self.size += len(data)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> dict[str, Any]:
    with path.open("rb") as fh:
        stat = os.fstat(fh.fileno())
        info = tarfile.TarInfo(arcname)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _HashingReader(fh, stat.st_size)
        tar.addfile(info, reader)
    return {"sha256": reader.digest.hexdigest(), "size": reader.size}


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(posix relative path, path) of every regular file under MEDIA_ROOT, sorted, staging excluded."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if not d.startswith(STAGING_PREFIX)]
        dirnames.sort()
        for name in sorted(filenames):
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


# --- PostgreSQL client programs ------------------------------------------------------------------


def _pg_env(connection: BaseDatabaseWrapper) -> dict[str, str]:
    s = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    env["PGDATABASE"] = str(s["NAME"])
    options = s.get("OPTIONS") or {}
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT")):
        if options.get(key):
            env[var] = str(options[key])
    if options.get("sslkey"):
        env["PGSSLKEY"] = str(options["sslkey"])
    return env


def _server_major(connection: BaseDatabaseWrapper) -> int:
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]  # psycopg's connection on PostgreSQL


def _pg_program(name: str, *, server_major: int, pg_bin: str | None) -> tuple[str, int]:
    """The path and major version of pg_dump / pg_restore: from --pg-bin, else Debian's directory for the
    server's major version, else PATH."""
    candidates: list[str] = []
    if pg_bin:
        candidates.append(str(Path(pg_bin) / name))
    else:
        candidates.append(f"/usr/lib/postgresql/{server_major}/bin/{name}")
        found = shutil.which(name)
        if found:
            candidates.append(found)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            out = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False).stdout
            match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
            if match:
                return candidate, int(match.group(1))
    where = f"in {pg_bin}" if pg_bin else "on PATH"
    raise BackupError(
        f"{name} was not found {where}. Install the PostgreSQL {server_major} client programs "
        f"(Debian/Ubuntu: apt-get install postgresql-client-{server_major}) or pass --pg-bin DIR."
    )


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise BackupError(f"{what} failed (exit code {proc.returncode}):\n{tail}")


# --- backup ---------------------------------------------------------------------------------------


@dataclass
class Snapshot:
    counts: dict[str, dict[str, Any]]
    migrations: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)


def _read_state(
    execute: Callable[[str], list[tuple[Any, ...]]], existing: set[str], quote: Callable[[str], str]
) -> Snapshot:
    if "django_migrations" not in existing:
        raise BackupError("The database has not been migrated (no django_migrations table): nothing to back up.")
    latest: dict[str, tuple[int, str]] = {}
    for pk, app, name in execute("SELECT id, app, name FROM django_migrations"):
        if app not in latest or pk > latest[app][0]:
            latest[app] = (pk, name)
    counts: dict[str, dict[str, Any]] = {}
    for label, table in counted_tables().items():
        if table in existing:
            (rows,) = execute(f"SELECT COUNT(*) FROM {quote(table)}")[0]  # noqa: S608 - our table names
            counts[label] = {"table": table, "rows": int(rows)}
    return Snapshot(counts=counts, migrations={app: latest[app][1] for app in sorted(latest)})


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_dump(connection: BaseDatabaseWrapper, target: Path) -> Snapshot:
    source_path = Path(str(connection.settings_dict["NAME"]))
    if not source_path.is_file():
        raise BackupError(f"The SQLite database {source_path} does not exist.")
    source = sqlite3.connect(source_path, timeout=20)
    copy = sqlite3.connect(target)
    try:
        source.execute("PRAGMA busy_timeout = 20000")
        # One step: the whole copy reads one snapshot; in WAL mode the application keeps writing meanwhile.
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # the copy stands alone: no -wal file beside it
        existing = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        snapshot = _read_state(lambda sql: copy.execute(sql).fetchall(), existing, _quote)
        snapshot.extra = {"sqlite_version": sqlite3.sqlite_version}
    finally:
        copy.close()
        source.close()
    with target.open("rb+") as fh:
        os.fsync(fh.fileno())
    return snapshot


def _postgresql_dump(connection: BaseDatabaseWrapper, target: Path, pg_bin: str | None) -> Snapshot:
    import psycopg

    server_major = _server_major(connection)
    pg_dump, dump_major = _pg_program("pg_dump", server_major=server_major, pg_bin=pg_bin)
    if dump_major < server_major:
        raise BackupError(
            f"{pg_dump} is version {dump_major} but the server runs PostgreSQL {server_major}: pg_dump must be "
            f"at least the server's version. Install postgresql-client-{server_major} or pass --pg-bin DIR."
        )
    params = {k: v for k, v in connection.get_connection_params().items() if k not in ("cursor_factory", "context")}
    with psycopg.connect(**params) as snap_conn:
        # The counts and the dump read the same exported snapshot: the manifest describes exactly the dump.
        snap_conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        snap_conn.read_only = True
        with snap_conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            # a SELECT of two values always returns one row
            snapshot_id, server_version = cur.fetchone()  # type: ignore[misc]
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            existing = {row[0] for row in cur.fetchall()}

            def execute(sql: str) -> list[tuple[Any, ...]]:
                cur.execute(sql)
                return cur.fetchall()

            snapshot = _read_state(execute, existing, _quote)
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", "--no-password", f"--file={target}"],
                _pg_env(connection),
                "pg_dump",
            )
        snap_conn.rollback()
    snapshot.extra = {"server_version": server_version, "pg_dump_major": dump_major}
    return snapshot


def _archive_path(destination: str | Path | None, now: datetime.datetime) -> Path:
    """`destination` is the archive's file name when it ends in .tar.gz or .tgz, else a directory (created
    when missing) that receives closeloop-backup-YYYYmmdd-HHMMSS.tar.gz."""
    name = f"{ARCHIVE_PREFIX}{now.astimezone(datetime.UTC):%Y%m%d-%H%M%S}{ARCHIVE_SUFFIX}"
    if destination is None:
        destination = Path(settings.DATA_DIR) / "backups"
    is_file_name = str(destination).endswith((".tar.gz", ".tgz"))
    destination = Path(destination)
    if not is_file_name or destination.is_dir():
        destination.mkdir(mode=0o700, parents=True, exist_ok=True)
        return destination / name
    if not destination.parent.is_dir():
        raise BackupError(f"The directory {destination.parent} does not exist.")
    return destination


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float
    pruned: list[Path]


def backup_create(
    *,
    destination: str | Path | None = None,
    keep: int | None = None,
    pg_bin: str | None = None,
    compresslevel: int = 1,
    now: datetime.datetime | None = None,
    log: Log = lambda message: None,
) -> BackupResult:
    """Write one archive (database + media + manifest) to `destination` (a directory, or the archive's
    file name; default var/backups/). With `keep`, older archives in that directory beyond the newest
    `keep` are deleted afterwards."""
    started = time.monotonic()
    now = now or timezone.now()
    connection = _default_connection()
    vendor = connection.vendor
    path = _archive_path(destination, now)
    if path.exists():
        raise BackupError(f"{path} already exists; choose another name.")
    partial = path.with_name(f".{path.name}.partial")
    media_root = Path(settings.MEDIA_ROOT)
    work = Path(tempfile.mkdtemp(prefix=".closeloop-backup-", dir=path.parent))
    try:
        dump = work / PurePosixPath(DUMP_NAMES[vendor]).name
        log(f"Copying the {vendor} database…")
        snapshot = _sqlite_dump(connection, dump) if vendor == "sqlite" else _postgresql_dump(connection, dump, pg_bin)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", compresslevel=compresslevel, format=tarfile.PAX_FORMAT) as tar,
        ):
            db_entry = _add_file(tar, dump, DUMP_NAMES[vendor])
            dump.unlink()
            log("Archiving media files…")
            media: dict[str, dict[str, Any]] = {}
            for rel, file_path in _media_files(media_root):
                try:
                    media[rel] = _add_file(tar, file_path, f"media/{rel}")
                except FileNotFoundError:  # deleted between the listing and the read
                    continue
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "closeloop_version": closeloop_version(),
                "created_at": now.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
                "database": {"vendor": vendor, "file": DUMP_NAMES[vendor], **db_entry, **snapshot.extra},
                "migrations": snapshot.migrations,
                "counts": snapshot.counts,
                "media": {
                    "files": media,
                    "count": len(media),
                    "bytes": sum(entry["size"] for entry in media.values()),
                },
            }
            data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
        _fsync_dir(path.parent)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    pruned = _prune(path.parent, keep) if keep else []
    return BackupResult(path=path, manifest=manifest, seconds=time.monotonic() - started, pruned=pruned)


def _prune(directory: Path, keep: int) -> list[Path]:
    archives = sorted(p for p in directory.glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}") if p.is_file())
    old = archives[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return old


# --- restore --------------------------------------------------------------------------------------


def _safe_member_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or "\\" in name or "\x00" in name:
        raise CorruptArchive(f"The archive holds an unsafe path: {name!r}.")
    return path


@dataclass
class _Staged:
    manifest: dict[str, Any]
    dump: Path
    media: Path
    files: dict[str, dict[str, Any]]


def _extract(archive: Path, dump_target: Path, media_stage: Path) -> _Staged:
    """Stream the archive into the staging places, hashing every file; then check them against the
    manifest. Raises CorruptArchive for anything unreadable, missing, extra or different."""
    found: dict[str, dict[str, Any]] = {}
    manifest_bytes: bytes | None = None
    dump_name: str | None = None
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                path = _safe_member_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise CorruptArchive(f"The archive holds something other than a file: {member.name!r}.")
                if member.name in found or (member.name == MANIFEST and manifest_bytes is not None):
                    raise CorruptArchive(f"The archive holds {member.name!r} twice.")
                source = tar.extractfile(member)
                assert source is not None
                if member.name == MANIFEST:
                    manifest_bytes = source.read()
                    continue
                if path.parts[0] == "database" and len(path.parts) == 2:
                    if dump_name is not None:
                        raise CorruptArchive("The archive holds more than one database dump.")
                    dump_name, target = member.name, dump_target
                elif path.parts[0] == "media" and len(path.parts) > 1:
                    target = media_stage.joinpath(*path.parts[1:])
                    target.parent.mkdir(parents=True, exist_ok=True)
                else:
                    raise CorruptArchive(f"The archive holds an unexpected file: {member.name!r}.")
                digest, size = hashlib.sha256(), 0
                with target.open("wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                found[member.name] = {"sha256": digest.hexdigest(), "size": size}
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise CorruptArchive(f"{archive} is not a readable backup archive (damaged or incomplete): {exc}") from exc
    if manifest_bytes is None:
        raise CorruptArchive(f"{archive} has no {MANIFEST}: it is incomplete or not a CloseLoop backup.")
    try:
        manifest = json.loads(manifest_bytes)
        if manifest.get("format") != FORMAT:
            raise CorruptArchive(f"{archive} is not a CloseLoop backup.")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise CorruptArchive(
                f"{archive} has backup format version {manifest.get('format_version')}; this CloseLoop reads "
                f"version {FORMAT_VERSION}. Restore it with the CloseLoop version that made it "
                f"({manifest.get('closeloop_version')})."
            )
        expected = {manifest["database"]["file"]: manifest["database"]}
        expected.update({f"media/{rel}": entry for rel, entry in manifest["media"]["files"].items()})
        if not (isinstance(manifest["counts"], dict) and isinstance(manifest["migrations"], dict)):
            raise TypeError("counts and migrations must be objects")
        if manifest["database"]["vendor"] not in DUMP_NAMES:
            raise ValueError(f"unknown database vendor {manifest['database']['vendor']!r}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptArchive(f"The manifest of {archive} is malformed: {exc!r}") from exc
    problems = []
    for name in sorted(expected.keys() - found.keys()):
        problems.append(f"missing: {name}")
    for name in sorted(found.keys() - expected.keys()):
        problems.append(f"not in the manifest: {name}")
    for name in sorted(expected.keys() & found.keys()):
        if found[name]["sha256"] != expected[name].get("sha256") or found[name]["size"] != expected[name].get("size"):
            problems.append(f"checksum differs: {name}")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise CorruptArchive(f"{archive} does not match its manifest ({shown}).")
    return _Staged(manifest=manifest, dump=dump_target, media=media_stage, files=found)


def target_occupancy(connection: BaseDatabaseWrapper) -> dict[str, int]:
    """Rows in the tables that show the database is in use (complaints, customers, users)."""
    existing = set(connection.introspection.table_names())
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table, what in OCCUPANCY_TABLES.items():
            if table in existing:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
                (rows,) = cursor.fetchone()
                if rows:
                    found[what] = int(rows)
    return found


def _check_migrations(manifest: dict[str, Any]) -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    unknown = [f"{app}.{name}" for app, name in manifest["migrations"].items() if (app, name) not in known]
    if unknown:
        raise BackupError(
            "The backup's database is at a newer migration state than this code knows "
            f"({', '.join(unknown)}); it was made by CloseLoop {manifest.get('closeloop_version')}. "
            "Install that version (or a newer one) and restore again."
        )


def _sqlite_replace(staged: Path, target: Path) -> None:
    connections.close_all()
    # A thread that ended with its connection open (connections are kept, DB_CONN_MAX_AGE) leaves it to
    # the cycle collector: closed now, it is not taken for another process using the database.
    gc.collect()
    if target.exists():
        probe = sqlite3.connect(target, timeout=2)
        try:
            # Leaving WAL mode needs the only connection: it fails while a web or worker process has it open,
            # and it folds the old -wal file into the old database first.
            mode = probe.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        except sqlite3.OperationalError:
            mode = "locked"
        finally:
            probe.close()
        if str(mode).lower() != "delete":
            raise BackupError(
                f"The database {target} is in use: stop the web and worker processes, then restore again."
            )
    if target.exists():
        shutil.copymode(target, staged)  # keep the old file's permissions
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{target}{suffix}").unlink()
    os.replace(staged, target)
    _fsync_dir(target.parent)


def _postgresql_restore(
    connection: BaseDatabaseWrapper, dump: Path, manifest: dict[str, Any], pg_bin: str | None
) -> None:
    server_major = _server_major(connection)
    pg_restore, restore_major = _pg_program("pg_restore", server_major=server_major, pg_bin=pg_bin)
    made_by = int(manifest["database"].get("pg_dump_major") or 0)
    if restore_major < made_by:
        raise BackupError(
            f"The dump was made by pg_dump {made_by}; {pg_restore} is version {restore_major} and cannot read it. "
            f"Install postgresql-client-{made_by} (or newer) or pass --pg-bin DIR."
        )
    env = _pg_env(connection)
    listing = subprocess.run([pg_restore, "--list", str(dump)], env=env, capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise CorruptArchive(f"pg_restore cannot read the dump: {listing.stderr.strip()}")
    in_dump = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing.stdout, flags=re.MULTILINE))
    # Tables the dump does not have (made by migrations newer than the backup) would stop `migrate` later.
    extra = [t for t in connection.introspection.table_names() if t not in in_dump]
    if extra and in_dump:
        with connection.cursor() as cursor:
            for table in extra:
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")
    connections.close_all()
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--no-password",
            f"--dbname={env['PGDATABASE']}",
            str(dump),
        ],
        env,
        "pg_restore",
    )


def _media_replace(staged: Path, media_root: Path) -> None:
    """Swap the staged media into MEDIA_ROOT by renames inside it (works when MEDIA_ROOT is a mount point)."""
    old = media_root / f"{STAGING_PREFIX}old-{os.getpid()}-{int(time.time())}"
    old.mkdir()
    for entry in list(media_root.iterdir()):
        if not entry.name.startswith(STAGING_PREFIX):
            entry.rename(old / entry.name)
    for entry in list(staged.iterdir()):
        entry.rename(media_root / entry.name)
    _fsync_dir(media_root)
    shutil.rmtree(old, ignore_errors=True)


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    tables: int
    rows: int
    media_files: int
    media_bytes: int
    pending_migrations: list[str]
    seconds: float
    mismatches: list[str] = field(default_factory=list)


def backup_verify(*, manifest: dict[str, Any], connection: BaseDatabaseWrapper | None = None) -> list[str]:
    """Differences between the configured database and media and the manifest (empty when equal)."""
    connection = connection or connections["default"]
    problems: list[str] = []
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        for label, entry in manifest["counts"].items():
            if entry["table"] not in existing:
                problems.append(f"{label}: table {entry['table']} is missing")
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(entry['table'])}")  # noqa: S608
            (rows,) = cursor.fetchone()
            if rows != entry["rows"]:
                problems.append(f"{label}: {rows} rows, the backup had {entry['rows']}")
    media_root = Path(settings.MEDIA_ROOT)
    present = dict(_media_files(media_root))
    expected = manifest["media"]["files"]
    for rel in sorted(expected.keys() - present.keys()):
        problems.append(f"media/{rel}: missing")
    for rel in sorted(present.keys() - expected.keys()):
        problems.append(f"media/{rel}: not in the backup")
    for rel in sorted(expected.keys() & present.keys()):
        if _sha256_file(present[rel]) != expected[rel]["sha256"]:
            problems.append(f"media/{rel}: checksum differs")
    return problems


def backup_restore(
    *, archive: Path, force: bool = False, pg_bin: str | None = None, log: Log = lambda m: None
) -> RestoreResult:
    """Replace the configured database and MEDIA_ROOT with the archive's, then verify them against its
    manifest. Refuses (changing nothing) a damaged archive, another vendor's dump, a migration state newer
    than the code, and — without `force` — a target database that already holds complaints, customers or
    users."""
    started = time.monotonic()
    connection = _default_connection()
    vendor = connection.vendor
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist.")
    if not force:
        occupied = target_occupancy(connection)
        if occupied:
            held = ", ".join(f"{what}: {n}" for what, n in occupied.items())
            raise BackupError(
                f"The target database already holds data ({held}); restoring would replace all of it. "
                "Run again with --force to replace it."
            )
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as cleanup:
        media_stage = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}restore-", dir=media_root))
        cleanup.callback(shutil.rmtree, media_stage, True)
        if vendor == "sqlite":
            target = Path(str(connection.settings_dict["NAME"]))
            if not target.parent.is_dir():
                raise BackupError(f"The directory {target.parent} does not exist.")
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.restore-", dir=target.parent)
            os.close(fd)
        else:
            fd, name = tempfile.mkstemp(prefix=".closeloop-restore-", suffix=".pgdump", dir=settings.DATA_DIR)
            os.close(fd)
        dump = Path(name)
        cleanup.callback(lambda: dump.unlink(missing_ok=True))
        log(f"Reading and checking {archive}…")
        staged = _extract(archive, dump, media_stage)
        manifest = staged.manifest
        if manifest["database"]["vendor"] != vendor:
            raise BackupError(
                f"This backup holds a {manifest['database']['vendor']} database but the configured database is "
                f"{vendor}. Restoring across database vendors is not supported: restore it into an installation "
                f"on {manifest['database']['vendor']}."
            )
        _check_migrations(manifest)
        log("Replacing the database…")
        if vendor == "sqlite":
            _sqlite_replace(dump, target)
        else:
            _postgresql_restore(connection, dump, manifest, pg_bin)
        log("Replacing the media files…")
        _media_replace(media_stage, media_root)
    connections.close_all()
    log("Verifying row counts and checksums…")
    mismatches = backup_verify(manifest=manifest)
    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return RestoreResult(
        manifest=manifest,
        tables=len(manifest["counts"]),
        rows=sum(entry["rows"] for entry in manifest["counts"].values()),
        media_files=manifest["media"]["count"],
        media_bytes=manifest["media"]["bytes"],
        pending_migrations=[f"{m.app_label}.{m.name}" for m, _ in plan],
        seconds=time.monotonic() - started,
        mismatches=mismatches,
    )


def summary_lines(result: RestoreResult) -> list[str]:
    manifest = result.manifest
    created = datetime.datetime.fromisoformat(manifest["created_at"].replace("Z", "+00:00"))
    local = timezone.localtime(created)
    lines = [
        f"  made:       {local:%Y-%m-%d %H:%M:%S %z} by CloseLoop {manifest['closeloop_version']} "
        f"({manifest['database']['vendor']})",
        f"  database:   {result.tables} tables, {result.rows} rows",
        f"  media:      {result.media_files} files, {_human_bytes(result.media_bytes)}",
    ]
    if result.mismatches:
        lines.append(f"  verified:   {len(result.mismatches)} difference(s) from the manifest:")
        lines.extend(f"    - {problem}" for problem in result.mismatches[:20])
    else:
        lines.append("  verified:   row counts and media SHA-256 equal to the manifest")
    if result.pending_migrations:
        lines.append(
            f"  migrations: the backup predates {len(result.pending_migrations)} migration(s) of this code: "
            "run `closeloop migrate` before starting"
        )
    else:
        lines.append("  migrations: up to date with this code")
    lines.append(f"  took:       {result.seconds:.1f} s")
    return lines

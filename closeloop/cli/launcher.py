"""The `closeloop` command as a newcomer meets it: CloseLoop's own commands listed first, and a command
run against a database that is not migrated yet says what to run instead of ending in a traceback
("no such table: sla_calendar")."""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

from django.core.management import ManagementUtility, get_commands, load_command_class
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

# Commands that create or inspect the schema, or never read the database: they run on any database.
NO_DATABASE_NEEDED = frozenset(
    {
        "help",
        "version",
        "check",
        "migrate",
        "makemigrations",
        "showmigrations",
        "sqlmigrate",
        "squashmigrations",
        "optimizemigration",
        "makemessages",
        "compilemessages",
        "collectstatic",
        "findstatic",
        "diffsettings",
        "dbshell",
        "shell",
        "test",
        "testserver",
        "startapp",
        "startproject",
        "sendtestemail",
        "inspectdb",
        "sqlflush",
        "sqlsequencereset",
        "restore",  # brings a whole database back, schema included
        "serve",  # migrates before it starts
        "lifecycle",  # prints the transition tables from the code
    }
)
OWN_APPS = "closeloop"
HINT = "Run `closeloop migrate` first (or `make run`, which migrates, loads the demo data and starts CloseLoop)."


class NotReady(Exception):
    """The database cannot serve CloseLoop's commands yet; the message says what to do."""


def unapplied_migrations() -> list[str]:
    """`app.migration` names not applied to the default database, in the order they would run."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]


def database_ready() -> None:
    """Raise NotReady with what to run when the database is unreachable or not migrated."""
    try:
        missing = unapplied_migrations()
    except DatabaseError as exc:
        raise NotReady(
            f"CloseLoop cannot reach its database: {str(exc).strip()}\n"
            "Start the database server, or set DATABASE_URL to the database CloseLoop should use "
            "(docs/operations.md)."
        ) from exc
    if missing:
        raise NotReady(
            f"The database is not migrated: {len(missing)} migration(s) not applied yet (first: {missing[0]}).\n{HINT}"
        )


def _missing_table(exc: DatabaseError) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


class Utility(ManagementUtility):
    def main_help_text(self, commands_only: bool = False) -> str:
        """CloseLoop's commands first, each with its one-line description; Django's after them."""
        if commands_only:
            return super().main_help_text(commands_only=True)
        own: list[tuple[str, str]] = []
        others: dict[str, list[str]] = defaultdict(list)
        for name, app in sorted(get_commands().items()):
            if app.startswith(OWN_APPS):
                own.append((name, _summary(app, name)))
            else:
                others[app.rpartition(".")[-1]].append(name)
        width = max((len(name) for name, _ in own), default=0)
        lines = [
            f"Type '{self.prog_name} help <subcommand>' for help on a specific subcommand.",
            "",
            "CloseLoop's commands:",
            *(f"    {name.ljust(width)}  {summary}" for name, summary in own),
            "",
            "Django's commands:",
        ]
        for app in sorted(others):
            lines += ["", f"[{app}]", *(f"    {name}" for name in others[app])]
        return "\n".join(lines)

    def execute(self) -> None:
        subcommand = self.argv[1] if len(self.argv) > 1 else "help"
        if not subcommand.startswith("-") and subcommand not in NO_DATABASE_NEEDED:
            import django

            django.setup()
            if subcommand in get_commands():
                try:
                    database_ready()
                except NotReady as exc:
                    sys.stderr.write(f"{exc}\n")
                    sys.exit(2)
        try:
            super().execute()
        except DatabaseError as exc:
            if not _missing_table(exc):
                raise
            sys.stderr.write(f"A table is missing from the database ({str(exc).strip()}).\n{HINT}\n")
            sys.exit(2)


def _summary(app: str, name: str) -> str:
    try:
        command: Any = load_command_class(app, name)
    except Exception:
        return ""
    first_line = str(command.help).strip().split("\n")[0]
    return first_line.split(". ")[0].rstrip(".")


def main(argv: list[str]) -> None:
    Utility(argv).execute()

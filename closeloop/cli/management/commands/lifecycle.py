from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from closeloop.core.lifecycle import lifecycle_get, lifecycles, lifecycles_markdown


class Command(BaseCommand):
    help = "Print every lifecycle table (the ones the services enforce), one heading each, or the one named."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="one lifecycle: " + ", ".join(lc.name for lc in lifecycles()))

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["name"]:
            self.stdout.write(lifecycles_markdown())
            return
        found = lifecycle_get(options["name"])
        if found is None:
            raise CommandError(f"No lifecycle is named {options['name']}.")
        self.stdout.write(lifecycles_markdown([found]))

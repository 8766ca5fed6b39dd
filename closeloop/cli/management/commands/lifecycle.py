from typing import Any

from django.core.management.base import BaseCommand

from closeloop.complaints.lifecycle import as_markdown


class Command(BaseCommand):
    help = "Print the complaint lifecycle table (the one the services enforce)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(as_markdown())

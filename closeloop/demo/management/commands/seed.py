"""`closeloop seed --complaints N [--seed S] [--days D] [--batch 2000] [--handlers H]`: bulk demo and
benchmark data — complaints with their whole history (tasks, contacts, solutions, feedback forms,
follow-ups, reopens, repeats, deadlines met and missed, events)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from closeloop.demo.generator import SeedResult, seed_complaints


class Command(BaseCommand):
    help = "Append N generated complaints with their history, received over the last D days."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--complaints", type=int, required=True, help="how many complaints to add")
        parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data")
        parser.add_argument("--days", type=int, default=365, help="spread over the last D days (default 365)")
        parser.add_argument("--batch", type=int, default=2000, help="complaints per transaction (default 2000)")
        parser.add_argument(
            "--handlers",
            type=int,
            default=None,
            help="handlers per department (created where missing; default 3 to 20 by the number of complaints)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["complaints"] < 0 or options["days"] < 1 or options["batch"] < 1:
            raise CommandError("--complaints must be >= 0, --days and --batch >= 1")
        if options["handlers"] is not None and options["handlers"] < 1:
            raise CommandError("--handlers must be >= 1")

        def progress(result: SeedResult) -> None:
            if options["verbosity"] >= 1:
                self.stderr.write(
                    f"  {result.complaints:>9,} complaints  {result.rows:>11,} rows  {result.seconds:7.1f} s"
                )

        result = seed_complaints(
            count=options["complaints"],
            seed=options["seed"],
            days=options["days"],
            batch_size=options["batch"],
            handlers_per_department=options["handlers"],
            progress=progress,
        )
        span = f" ({result.numbers[0]} … {result.numbers[-1]})" if result.numbers else ""
        self.stdout.write(
            f"Added {result.complaints:,} complaints{span}, {result.customers:,} customers, {result.tasks:,} tasks, "
            f"{result.followups:,} follow-ups, {result.deadlines:,} deadlines, {result.events:,} events "
            f"({result.rows:,} rows) in {result.seconds:.1f} s ({result.seconds_per_100k:.1f} s per 100k, "
            f"{result.rows_per_second:,.0f} rows/s)."
        )

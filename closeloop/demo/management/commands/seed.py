"""`closeloop seed --complaints N [--seed S] [--days D] [--batch 5000]`: bulk demo/benchmark data."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from closeloop.demo.generator import SeedResult, seed_complaints


class Command(BaseCommand):
    help = "Append N generated complaints (with customers and events) received over the last D days."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--complaints", type=int, required=True, help="how many complaints to add")
        parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same data")
        parser.add_argument("--days", type=int, default=365, help="spread over the last D days (default 365)")
        parser.add_argument("--batch", type=int, default=5000, help="complaints per transaction (default 5000)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["complaints"] < 0 or options["days"] < 1 or options["batch"] < 1:
            raise CommandError("--complaints must be >= 0, --days and --batch >= 1")

        def progress(result: SeedResult) -> None:
            if options["verbosity"] >= 1:
                self.stderr.write(f"  {result.complaints:>9,} complaints  {result.seconds:7.1f} s")

        result = seed_complaints(
            count=options["complaints"],
            seed=options["seed"],
            days=options["days"],
            batch_size=options["batch"],
            progress=progress,
        )
        span = f" ({result.numbers[0]} … {result.numbers[-1]})" if result.numbers else ""
        self.stdout.write(
            f"Added {result.complaints:,} complaints{span}, {result.customers:,} customers, "
            f"{result.events:,} events in {result.seconds:.1f} s ({result.seconds_per_100k:.1f} s per 100k)."
        )

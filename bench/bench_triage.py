"""Triage benchmark (issue 19): learned suggestions, safety hazards and text clusters on a labelled
synthetic history (closeloop/triage/synthetic.py).

    .venv/bin/python bench/bench_triage.py [--complaints 100000] [--test 5000]

Creates a throwaway SQLite file under var/bench/, migrates, adds the synthetic catalogue, imports N closed
complaints through the history import, trains a model with the service the worker runs (`triage_train`,
timed), then measures on complaints drawn apart from the history (a different seed — the suite's tests
use others again):
- "new complaints": fresh draws worded with the phrasings the history used, in new combinations;
- "unseen wording": every failure worded with a phrasing the history never contained;
type accuracy and macro-F1, department accuracy, the lexicon's hazard recall and precision (with
denied hazard words among the non-hazards), clustering purity (and inverse purity) over windows of one
product line, and the latency of a suggestion (`triage_suggest`, p50/p95) and the training time.
Writes bench/results/triage-sqlite.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LATENCY_TARGET_MS = 50.0


def prepare_database() -> str:
    path = ROOT / "var" / "bench" / "triage.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def macro_f1(truth: list[str], guess: list[str]) -> float:
    labels = sorted(set(truth))
    scores = []
    for label in labels:
        tp = sum(1 for t, g in zip(truth, guess, strict=True) if t == label and g == label)
        fp = sum(1 for t, g in zip(truth, guess, strict=True) if t != label and g == label)
        fn = sum(1 for t, g in zip(truth, guess, strict=True) if t == label and g != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return statistics.fmean(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--test", type=int, default=5_000)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    os.environ["TRIAGE_MAX_HISTORY"] = str(max(args.complaints, 1))
    import django

    django.setup()
    from django.core.management import call_command

    from closeloop.directory.models import Product, ProductLine
    from closeloop.imports.models import ImportSource
    from closeloop.imports.services import complaints_import
    from closeloop.triage import learn
    from closeloop.triage.services import triage_train
    from closeloop.triage.similar import clusters_find
    from closeloop.triage.suggest import triage_suggest
    from closeloop.triage.synthetic import LINES, TOPICS, history, sample
    from closeloop.triage.text import DEFAULT_HAZARD_WORDS, hazard_words

    call_command("migrate", verbosity=0)
    for family in LINES.values():
        for code, name, prefix, names in family:
            line = ProductLine.objects.create(code=code, name=name, name_en=code)
            Product.objects.bulk_create(
                [Product(line=line, model=f"{prefix}-{1001 + i}", name=n, name_en=n) for i, n in enumerate(names)]
            )

    started = time.perf_counter()
    samples = history(args.complaints, seed=1)
    rows = [
        (
            n,
            {
                "received_at": f"2025-{1 + n % 12:02d}-{1 + n % 27:02d} 09:30",
                "resolved_at": f"2025-{1 + n % 12:02d}-{1 + n % 27:02d} 15:00",
                "closed_at": f"2025-{1 + n % 12:02d}-{1 + n % 27:02d} 18:00",
                "customer_name": f"客户{n % 5000}",
                "customer_phone": f"138{n % 5000:08d}",
                "type": s.type_code,
                "priority": str(s.priority),
                "department": s.department_code,
                "status": "closed",
                "description": s.description + (f" {s.product_text}" if s.product_text else ""),
                "result": "已处理",
            },
        )
        for n, s in enumerate(samples, start=2)
    ]
    result = complaints_import(rows=rows, actor=None, source=ImportSource.CLI)
    assert not result.errors, result.errors[:3]
    import_seconds = time.perf_counter() - started
    print(f"history: {args.complaints:,} closed complaints imported in {import_seconds:.1f} s")

    started = time.perf_counter()
    model = triage_train()
    train_wall = time.perf_counter() - started
    print(
        f"training: v{model.version} on {model.samples:,} complaints — fit {model.seconds:.1f} s, "
        f"with reading the history and storing {train_wall:.1f} s; held-out accuracy {model.scores}"
    )
    _version, learned = learn.current()
    assert learned is not None

    figures: dict[str, object] = {
        "complaints": args.complaints,
        "import_seconds": round(import_seconds, 1),
        "training_fit_seconds": model.seconds,
        "training_total_seconds": round(train_wall, 1),
        "model_kib": round(len(bytes(model.blob)) / 1024),
    }
    for label, test in (
        ("new complaints", history(args.test, seed=2)),
        ("unseen wording", history(args.test, seed=3, heldout=True)),
    ):
        guesses = [learned.guess(learn.model_text(s.description, s.product_text), explain=0) for s in test]
        types = [g["type"].value for g in guesses]
        departments = [g["department"].value for g in guesses]
        truth_types = [s.type_code for s in test]
        type_accuracy = sum(t == g for t, g in zip(truth_types, types, strict=True)) / len(test)
        department_accuracy = sum(s.department_code == d for s, d in zip(test, departments, strict=True)) / len(test)
        majority = Counter(truth_types).most_common(1)[0][1] / len(test)
        flagged = [bool(hazard_words(s.description, DEFAULT_HAZARD_WORDS)) for s in test]
        tp = sum(f and s.hazard for f, s in zip(flagged, test, strict=True))
        recall = tp / max(1, sum(s.hazard for s in test))
        precision = tp / max(1, sum(flagged))
        figures[label] = {
            "type_accuracy": round(type_accuracy, 3),
            "type_macro_f1": round(macro_f1(truth_types, types), 3),
            "type_majority_baseline": round(majority, 3),
            "department_accuracy": round(department_accuracy, 3),
            "hazard_recall": round(recall, 3),
            "hazard_precision": round(precision, 3),
        }
        print(f"{label}: {figures[label]}")

    # Clusters: windows of one product line holding complaints about a few failures each.
    from django.conf import settings

    families = {family: [t for t in TOPICS if set(t[5]) & {family, "*"}] for family in LINES}
    rng = random.Random(4)
    windows = []
    for _window in range(40):
        family = rng.choice(list(families))
        line = rng.choice(LINES[family])[0]
        topics = rng.sample(families[family], 5)
        windows.append([sample(rng, topic=t[0], line=line) for t in topics for _ in range(rng.randint(3, 12))])
    chosen = settings.TRIAGE_CLUSTER_SIMILARITY
    for similarity in sorted({0.25, 0.3, chosen, 0.45}):
        purities, inverse = [], []
        for drawn in windows:
            groups = clusters_find([s.description for s in drawn], similarity=similarity, learned=learned)
            purities.append(sum(Counter(drawn[i].topic for i in g).most_common(1)[0][1] for g in groups) / len(drawn))
            by_topic: dict[str, Counter[int]] = {}
            for index, group in enumerate(groups):
                for i in group:
                    by_topic.setdefault(drawn[i].topic, Counter())[index] += 1
            inverse.append(sum(c.most_common(1)[0][1] for c in by_topic.values()) / len(drawn))
        purity, inverse_purity = round(statistics.fmean(purities), 3), round(statistics.fmean(inverse), 3)
        mark = " (TRIAGE_CLUSTER_SIMILARITY_PERCENT)" if similarity == chosen else ""
        print(f"clusters at similarity ≥ {similarity}{mark}: purity {purity}, inverse purity {inverse_purity}")
        if similarity == chosen:
            figures["cluster_purity"], figures["cluster_inverse_purity"] = purity, inverse_purity

    timings = []
    for s in history(1000, seed=5):
        t = time.perf_counter()
        triage_suggest(description=s.description, product_text=s.product_text)
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    p50, p95 = timings[len(timings) // 2], timings[int(len(timings) * 0.95)]
    figures["suggest_p50_ms"] = round(p50, 2)
    figures["suggest_p95_ms"] = round(p95, 2)
    verdict = "ok" if p95 <= LATENCY_TARGET_MS else "OVER TARGET"
    print(f"suggestion latency: p50 {p50:.2f} ms, p95 {p95:.2f} ms (target ≤ {LATENCY_TARGET_MS:.0f} ms: {verdict})")

    figures["machine"] = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()}
    out = ROOT / "bench" / "results" / "triage-sqlite.json"
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

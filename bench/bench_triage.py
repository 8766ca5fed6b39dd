"""Triage benchmark (issue 19): learned suggestions, safety hazards and text clusters on a labelled
synthetic history (closeloop/triage/synthetic.py).

    .venv/bin/python bench/bench_triage.py [--complaints 100000] [--test 5000]

Creates a throwaway SQLite file under var/bench/, migrates, adds the synthetic catalogue, imports N closed
complaints through the history import, trains a model with the service the worker runs (`triage_train`,
timed), then measures on complaints drawn apart from the history (a different seed — the suite's tests
use others again):
- "new complaints": fresh draws worded with the phrasings the history used, in new combinations;
- "unseen wording": every failure worded with a phrasing the history never contained;
type accuracy and macro-F1, department accuracy, hazard recall and precision (with denied hazard words
among the non-hazards) of the lexicon, of the learned hazard model and of both together (lexicon hit OR
model at TRIAGE_HAZARD_MODEL_PERCENT, as hazards.py decides) — also on the hazards with their lexicon
words taken out, which only the model can catch —, clustering purity and inverse purity over windows of
one product line (the clustering of closeloop/triage/similar.py at several thresholds, and the one it
replaced: connected components over plain TF-IDF at 0.35), the latency of a suggestion
(`triage_suggest`, p50/p95), the training time, and the cost per complaint of the safety-hazard check
intake runs (lexicon, then the cached learned model).
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


def recall_precision(truth: list[bool], found: list[bool]) -> dict[str, float]:
    caught = sum(f and t for f, t in zip(found, truth, strict=True))
    return {
        "recall": round(caught / max(1, sum(truth)), 3),
        "precision": round(caught / max(1, sum(found)), 3),
    }


def strip_words(text: str, words: tuple[str, ...]) -> str:
    from closeloop.triage.text import normalise

    text = normalise(text)
    for word in words:
        text = text.replace(normalise(word), " ")
    return text


def purity(drawn: list, groups: list[list[int]]) -> tuple[float, float]:
    """(purity, inverse purity): how much of each group is its main failure; how much of each failure
    is in its main group."""
    pure = sum(Counter(drawn[i].topic for i in g).most_common(1)[0][1] for g in groups) / len(drawn)
    by_topic: dict[str, Counter[int]] = {}
    for index, group in enumerate(groups):
        for i in group:
            by_topic.setdefault(drawn[i].topic, Counter())[index] += 1
    inverse = sum(c.most_common(1)[0][1] for c in by_topic.values()) / len(drawn)
    return pure, inverse


def clusters_before(texts: list[str], learned: object, similarity: float = 0.35) -> list[list[int]]:
    """The clustering replaced in December 2026: connected components of the pairs whose plain TF-IDF
    cosine reached 0.35 (single linkage)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    matrix = learned.vectorizer.transform(texts)  # type: ignore[attr-defined]
    linked = csr_matrix((matrix @ matrix.T).toarray() >= similarity)
    _count, labels = connected_components(linked, directed=False)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    return list(groups.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--test", type=int, default=5_000)
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]

    os.environ["DATABASE_URL"] = prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    os.environ["TRIAGE_MAX_HISTORY"] = str(max(args.complaints, 1))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from closeloop.directory.models import Product, ProductLine
    from closeloop.imports.models import ImportSource
    from closeloop.imports.services import complaints_import
    from closeloop.triage import learn
    from closeloop.triage.services import triage_train
    from closeloop.triage.similar import clusters_find
    from closeloop.triage.suggest import triage_suggest
    from closeloop.triage.synthetic import LINES, TOPICS, history, sample
    from closeloop.triage.text import DEFAULT_HAZARD_WORDS, hazard_words, without_denied

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
        hazard_truth = [s.hazard for s in test]
        texts = [learn.model_text(s.description, s.product_text) for s in test]
        lexicon = [bool(hazard_words(t, DEFAULT_HAZARD_WORDS)) for t in texts]
        chance = learned.hazard_many([without_denied(t, DEFAULT_HAZARD_WORDS) for t in texts])
        model_says = [p >= settings.TRIAGE_HAZARD_MODEL_MIN for p in chance]
        both = [a or b for a, b in zip(lexicon, model_says, strict=True)]
        # The hazards told without a lexicon word: what is left of each hazard once its words are taken out.
        bare = [strip_words(t, DEFAULT_HAZARD_WORDS) for t, s in zip(texts, test, strict=True) if s.hazard]
        bare_caught = sum(p >= settings.TRIAGE_HAZARD_MODEL_MIN for p in learned.hazard_many(bare))
        figures[label] = {
            "type_accuracy": round(type_accuracy, 3),
            "type_macro_f1": round(macro_f1(truth_types, types), 3),
            "type_majority_baseline": round(majority, 3),
            "department_accuracy": round(department_accuracy, 3),
            "hazard_lexicon": recall_precision(hazard_truth, lexicon),
            "hazard_model": recall_precision(hazard_truth, model_says),
            "hazard_lexicon_or_model": recall_precision(hazard_truth, both),
            "hazard_recall_without_lexicon_words": {
                "lexicon": 0.0,
                "model": round(bare_caught / max(1, len(bare)), 3),
            },
            "hazard_model_by_threshold": {
                f"{t:.2f}": recall_precision(hazard_truth, [a or p >= t for a, p in zip(lexicon, chance, strict=True)])
                for t in (0.5, 0.7, 0.8, 0.9)
            },
        }
        print(f"{label}: {figures[label]}")

    # Clusters: windows of one product line holding complaints about a few failures each.

    families = {family: [t for t in TOPICS if set(t[5]) & {family, "*"}] for family in LINES}
    rng = random.Random(4)
    windows = []
    for _window in range(40):
        family = rng.choice(list(families))
        line = rng.choice(LINES[family])[0]
        topics = rng.sample(families[family], 5)
        windows.append([sample(rng, topic=t[0], line=line) for t in topics for _ in range(rng.randint(3, 12))])

    def measured(find: object) -> tuple[float, float]:
        pairs = [purity(drawn, find([s.description for s in drawn])) for drawn in windows]  # type: ignore[operator]
        return round(statistics.fmean(p for p, _i in pairs), 3), round(statistics.fmean(i for _p, i in pairs), 3)

    before = measured(lambda texts: clusters_before(texts, learned))
    figures["cluster_before"] = {"purity": before[0], "inverse_purity": before[1]}
    print(f"clusters before (connected components, plain TF-IDF ≥ 0.35): purity {before[0]}, inverse {before[1]}")
    chosen = settings.TRIAGE_CLUSTER_SIMILARITY
    grid = {}
    for similarity in sorted({0.02, 0.03, 0.05, 0.1, chosen}):
        pure, inverse = measured(lambda texts, t=similarity: clusters_find(texts, similarity=t, learned=learned))
        grid[f"{similarity:.2f}"] = {"purity": pure, "inverse_purity": inverse}
        mark = " (TRIAGE_CLUSTER_SIMILARITY_PERCENT)" if similarity == chosen else ""
        print(f"clusters at similarity ≥ {similarity}{mark}: purity {pure}, inverse purity {inverse}")
        if similarity == chosen:
            figures["cluster_purity"], figures["cluster_inverse_purity"] = pure, inverse
    figures["cluster_by_similarity"] = grid

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

    # The safety-hazard check at intake (closeloop/triage/signals.py, after the intake's commit, in the web
    # process): the lexicon, then the learned hazard model (cached per process), per new complaint.
    from closeloop.triage.hazards import hazard_assess

    checked = [f"{s.description} {s.product_text}".strip() for s in history(3000, seed=6)]
    for text in checked[:200]:  # warm: the model loaded, the lexicon read
        hazard_assess(text=text, line_id=None)
    intake_check: dict[str, object] = {}
    for label, use_model in (("lexicon", False), ("lexicon_and_model", True)):
        # CPU time of this thread (what intake pays on a core) and wall time (with the machine's load).
        for clock_name, clock in (("cpu", time.thread_time_ns), ("wall", time.perf_counter_ns)):
            costs = []
            for text in checked:
                t = clock()
                hazard_assess(text=text, line_id=None, use_model=use_model)
                costs.append((clock() - t) / 1e6)
            costs.sort()
            intake_check[f"{label}_{clock_name}"] = {
                "mean_ms": round(statistics.fmean(costs), 3),
                "p50_ms": round(costs[len(costs) // 2], 3),
                "p95_ms": round(costs[int(len(costs) * 0.95)], 3),
                "p99_ms": round(costs[int(len(costs) * 0.99)], 3),
            }
    intake_check["complaints"] = len(checked)
    figures["hazard_check_at_intake"] = intake_check
    print(f"hazard check at intake, per complaint: {intake_check}")

    figures["load_before"] = load_before
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    figures["machine"] = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()}
    out = ROOT / "bench" / "results" / "triage-sqlite.json"
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

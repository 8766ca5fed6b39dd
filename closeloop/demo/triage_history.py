"""Demo history for triage: closed complaints from the year before the demo's window, brought in through
the history import (the way an installation brings its past from the previous system: one bulk write,
no per-complaint services), then a model trained on them — so an agent on `make run` sees suggestions
learned from "the installation's own history" rather than only the rules.

The texts are the labelled synthetic failures of closeloop/triage/synthetic.py, about the demo
catalogue's own product lines and models; type, department and priority are the ones each case ended with.
"""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

from django.conf import settings
from django.utils import timezone

from closeloop.demo.generator import DATA_DIR, SHANGHAI
from closeloop.directory.models import Product
from closeloop.imports.models import ImportSource
from closeloop.imports.services import complaints_import
from closeloop.triage.models import TriageModel
from closeloop.triage.services import triage_train
from closeloop.triage.synthetic import LINES, TOPICS, sample

# Comfortably above TRIAGE_MIN_HISTORY (300 by default) once a tenth is held out to score the model, and
# varied: every failure of every product line the demo catalogue shares with the synthetic families.
DEMO_HISTORY = 800
DEMO_HISTORY_DAYS = 365  # spread over the year before the demo's own months
CUSTOMERS = 500


def _rows(*, count: int, before: datetime.datetime, rng: random.Random) -> list[tuple[int, dict[str, Any]]]:
    products: dict[str, list[str]] = {}
    for model, line_code in Product.objects.filter(is_active=True).values_list("model", "line__code"):
        products.setdefault(line_code, []).append(model)
    lines = {family: [x[0] for x in lines if x[0] in products] for family, lines in LINES.items()}
    names = json.loads((DATA_DIR / "names.json").read_text(encoding="utf-8"))
    provinces = json.loads((DATA_DIR / "regions.json").read_text(encoding="utf-8"))["provinces"]
    customers = [
        (
            rng.choice(names["surnames"])[0] + rng.choice(names["given"])[0],
            f"{rng.choice(names['mobile_prefixes'])}{rng.randrange(10**8):08d}",
            rng.choice(provinces),
        )
        for _ in range(CUSTOMERS)
    ]
    rows = []
    for line in range(2, count + 2):
        topic = rng.choice(TOPICS)
        families = [f for f in LINES if lines[f] and (f in topic[5] or "*" in topic[5])]
        if not families:
            continue
        line_code = rng.choice(lines[rng.choice(families)])
        drawn = sample(rng, topic=topic[0], line=line_code)
        received = before - datetime.timedelta(days=rng.uniform(1, DEMO_HISTORY_DAYS))
        closed = received + datetime.timedelta(days=rng.uniform(1, 12))
        name, phone, province = rng.choice(customers)
        rows.append(
            (
                line,
                {
                    "received_at": f"{received.astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
                    "resolved_at": f"{(closed - datetime.timedelta(hours=20)).astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
                    "closed_at": f"{closed.astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
                    "customer_name": name,
                    "customer_phone": phone,
                    "province": province["name"],
                    "city": rng.choice(province["cities"]),
                    "product": rng.choice(products[line_code]),
                    "type": drawn.type_code,
                    "priority": str(drawn.priority),
                    "department": drawn.department_code,
                    "status": "closed",
                    "description": drawn.description,
                    "result": "已处理",
                },
            )
        )
    return rows


def demo_history(*, before: datetime.datetime, count: int = DEMO_HISTORY, seed: int = 19) -> int:
    """Import `count` closed complaints received in the year before `before`; returns how many."""
    rows = _rows(count=count, before=before, rng=random.Random(seed))
    result = complaints_import(rows=rows, actor=None, source=ImportSource.CLI, file_name="demo-history")
    if result.errors:
        raise ValueError(f"demo history refused: {result.errors[:3]}")
    return len(rows)


def demo_model() -> TriageModel | None:
    """Train the first model on the demo's closed complaints (the worker's own service); None when a model
    exists already or the history is still below TRIAGE_MIN_HISTORY."""
    if TriageModel.objects.exists():
        return None
    from closeloop.triage.services import training_history

    if training_history().count() < settings.TRIAGE_MIN_HISTORY:
        return None
    return triage_train(now=timezone.now())

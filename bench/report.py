"""The README's benchmark tables, regenerated from the results the benchmarks wrote.

    .venv/bin/python bench/report.py            # bench/results/*.json → bench/results/summary.json → README.md
    .venv/bin/python bench/report.py --check    # exit 1 if the README or summary.json is not what the results say

`make bench` runs it last. Every figure comes with the machine's load (os.getloadavg(), 1-minute average)
before and after the run that measured it, as that run recorded it: on a shared machine a figure is only
as good as the load it was taken under. The tables sit in README.md between the two marker comments
and are never typed by hand (tests/bench/test_report.py compares them with summary.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SUMMARY = RESULTS / "summary.json"
README = ROOT / "README.md"
BEGIN = "<!-- bench/report.py: begin (generated from bench/results/summary.json; do not edit) -->"
END = "<!-- bench/report.py: end -->"

SOURCES = {
    "suite_pg": "suite-postgresql-1000000.json",
    "suite_sqlite": "suite-sqlite-100000.json",
    "sla_pg": "sla-postgresql.json",
    "helpdesk": "helpdesk_compare.json",
    "import": "import-sqlite.json",
    "mail": "mail-sqlite.json",
    "service": "service-sqlite-10000.json",
}

# (label, page key, target on the 1M run: p95 ms or None)
PAGES = [
    ("agent's default queue", "queue_default", 100),
    ("filtered queue", "queue_filtered", 100),
    ("text search (吸顶灯, 13800, 安装, TS2026)", "search", 300),
    ("complaint page (50 random complaints)", "complaint_page", 100),
    ("handler inbox", "handler_inbox", None),
    ("follow-up call list", "followup_calllist", None),
    ("KPI dashboard, one month (as cached and warmed by the worker)", "dashboard", 1000),
    ("… as the first viewer in an interval (every aggregate computed)", "dashboard_uncached", 1000),
    ("KPI API, one month", "kpi_api", None),
]
# (label, page key) of bench_service.py; the complaint queue's target (p95 ≤ 100 ms) shown beside them.
SERVICE_PAGES = [
    ("service-order queue (desk)", "queue_default"),
    ("… filtered by kind, open only", "queue_filtered"),
    ("… by status", "queue_status"),
    ("service-order page (50 random orders)", "order_page"),
    ("API list, 50 orders", "api_list"),
]
SERVICE_QUEUE_TARGET = 100
INTAKE_TARGET = 400  # issue 20: API intake, gunicorn on both cores, PostgreSQL
IMPORT_TARGET = 2000  # issue 14: history import, complaints/s
MAIL_TARGET = 50  # issue 11: e-mail ingest, mails/s


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:g} ms" if value < 10 else f"{value:.0f} ms"


def _pair(row: dict[str, Any] | None) -> str:
    if not row or "median_ms" not in row:
        return "—"
    median, p95 = row["median_ms"], row["p95_ms"]
    if median >= 1000:
        return f"{median / 1000:.2f} / {p95 / 1000:.2f} s"
    return f"{median:.0f} / {p95:.0f} ms" if median >= 10 else f"{median:g} / {p95:g} ms"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else " ✔" if ok else " ✘"


def _load(data: dict[str, Any]) -> dict[str, Any]:
    """{before, after}: the 1-minute load averages the run recorded (older runs: the start only)."""
    load = data.get("load") or {}
    machine = data.get("machine") if isinstance(data.get("machine"), dict) else {}
    before = load.get("before")
    after = load.get("after")
    average = machine.get("load_average")
    if before is None and isinstance(average, dict):  # the helpdesk comparison's own record
        before, after = average.get("start"), average.get("end")
    elif before is None and isinstance(average, list):
        before = average
    return {
        "before": None if before is None else round(before[0], 2),
        "after": None if after is None else round(after[0], 2),
    }


def _read(name: str) -> dict[str, Any] | None:
    path = RESULTS / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def collect() -> dict[str, Any]:
    """summary.json: every figure of the README's tables, each row with the sources it comes from, and
    per source its file, when it was measured and the load before and after."""
    data = {key: _read(name) for key, name in SOURCES.items()}
    sources = {
        key: {
            "file": f"bench/results/{SOURCES[key]}",
            "measured_at": d.get("started_at") or d.get("when"),
            "load": _load(d),
        }
        for key, d in data.items()
        if d is not None
    }
    suite: list[dict[str, Any]] = []
    pg, lite = data["suite_pg"] or {}, data["suite_sqlite"] or {}
    for label, key, target in PAGES:
        mine_pg, mine_lite = pg.get("pages", {}).get(key), lite.get("pages", {}).get(key)
        ok = None if target is None or not mine_pg or "p95_ms" not in mine_pg else mine_pg["p95_ms"] <= target
        suite.append(
            {
                "workload": label,
                "cells": [
                    _pair(mine_pg),
                    str((mine_pg or {}).get("queries", "")),
                    _pair(mine_lite),
                    str((mine_lite or {}).get("queries", "")),
                    "" if target is None else f"p95 ≤ {_ms(target)}{_mark(ok)}",
                ],
                "sources": ["suite_pg", "suite_sqlite"],
            }
        )
    pg_report, lite_report = pg.get("reports") or {}, lite.get("reports") or {}

    def report_cell(r: dict[str, Any]) -> str:
        return f"{r['seconds']} s, {r['peak_rss_mb']:.0f} MB" if "seconds" in r else "—"

    suite.append(
        {
            "workload": "monthly Excel + PDF, peak RSS",
            "cells": [
                report_cell(pg_report),
                "",
                report_cell(lite_report),
                "",
                "≤ 60 s" + _mark(pg_report["seconds"] <= 60 if "seconds" in pg_report else None),
            ],
            "sources": ["suite_pg", "suite_sqlite"],
        }
    )

    def sweep_cell(s: dict[str, Any] | None) -> str:
        return f"{_ms(s['idle_s_max'] * 1000)} / {s['due_s']} s ({s['due']:,} due)" if s else "—"

    suite.append(
        {
            "workload": "SLA sweep: idle / due",
            "cells": [sweep_cell(pg.get("sla_sweep")), "", sweep_cell(lite.get("sla_sweep")), "", "≤ 1 s / ≤ 10 s"],
            "sources": ["suite_pg", "suite_sqlite"],
        }
    )
    if sla := data["sla_pg"]:
        suite.append(
            {
                "workload": f"SLA sweep over {sla['open_deadlines']:,} open deadlines (`bench_sla.py`): idle / due",
                "cells": [
                    sweep_cell(
                        {
                            "idle_s_max": sla["sweep_idle_seconds"]["max"],
                            "due_s": sla["sweep_due_seconds"],
                            "due": sla["due"],
                        }
                    ),
                    "",
                    "",
                    "",
                    "≤ 1 s / ≤ 10 s",
                ],
                "sources": ["sla_pg"],
            }
        )
    for label, key, target in (
        ("API intake, one process", "intake_in_process", None),
        ("API intake, gunicorn on both cores", "intake_http", INTAKE_TARGET),
    ):
        a, b = pg.get(key), lite.get(key)
        ok = None if target is None or not a else a["per_second"] >= target
        suite.append(
            {
                "workload": label,
                "cells": [
                    f"{a['per_second']:g}/s" if a else "—",
                    "",
                    f"{b['per_second']:g}/s" if b else "—",
                    "",
                    "" if target is None else f"≥ {target}/s{_mark(ok)}",
                ],
                "sources": ["suite_pg", "suite_sqlite"],
            }
        )

    helpdesk: list[dict[str, Any]] = []
    for row in (data["helpdesk"] or {}).get("comparisons", []):
        theirs, ours = row["helpdesk"], row["ours"]
        if row["kind"] == "throughput":
            cells = [f"{theirs['per_second']:g}/s", f"{ours['per_second']:g}/s"]
        else:
            cells = [_pair(theirs), _pair(ours)]
        target = row.get("target")
        cells += [
            f"{row['speedup_median']:g}×",
            "" if target is None else f"≥ {target:g}×{_mark(row.get('met'))}",
        ]
        helpdesk.append({"workload": row["workload"], "cells": cells, "sources": ["helpdesk"]})

    intake: list[dict[str, Any]] = []
    for kind, result in ((data["import"] or {}).get("results") or {}).items():
        rate = result["complaints_per_second"]
        intake.append(
            {
                "workload": f"history import, {kind} ({result['rows']:,} rows: read + check + write)",
                "cells": [
                    f"{rate:,}/s",
                    f"{result['complaints_per_cpu_second']:,}/s",
                    f"≥ {IMPORT_TARGET:,}/s{_mark(rate >= IMPORT_TARGET)}",
                ],
                "sources": ["import"],
            }
        )
    if mail := data["mail"]:
        intake.append(
            {
                "workload": f"e-mail ingest ({mail['mails']} mails)",
                "cells": [
                    f"{mail['per_second']:g}/s",
                    f"{mail['per_second_if_one_full_core']:g}/s",
                    f"≥ {MAIL_TARGET}/s{_mark(mail['per_second'] >= MAIL_TARGET)}",
                ],
                "sources": ["mail"],
            }
        )
    service_rows: list[dict[str, Any]] = []
    if service := data["service"]:
        size = f"{service.get('orders_in_database', service.get('orders_target', 0)):,}"
        for label, key in SERVICE_PAGES:
            row = service.get("pages", {}).get(key)
            ok = None if not row or "p95_ms" not in row else row["p95_ms"] <= SERVICE_QUEUE_TARGET
            service_rows.append(
                {
                    "workload": f"{label}, {size} orders",
                    "cells": [
                        _pair(row),
                        str((row or {}).get("queries", "")),
                        f"p95 ≤ {_ms(SERVICE_QUEUE_TARGET)} (the complaints'){_mark(ok)}",
                    ],
                    "sources": ["service"],
                }
            )
        if intake_row := service.get("intake"):
            service_rows.append(
                {
                    "workload": f"API intake, one process ({intake_row['requests']} orders)",
                    "cells": [
                        f"{intake_row['per_second']:g}/s (median {intake_row['latency_ms_median']:g} ms)",
                        "",
                        "",
                    ],
                    "sources": ["service"],
                }
            )
    return {
        "sources": sources,
        "tables": {
            "suite": {
                "header": [
                    "workload",
                    "1M PostgreSQL median / p95",
                    "SQL",
                    "100k SQLite median / p95",
                    "SQL",
                    "target",
                ],
                "rows": suite,
            },
            "helpdesk": {
                "header": ["workload", "django-helpdesk", "CloseLoop", "ratio (median)", "target"],
                "rows": helpdesk,
            },
            "intake": {"header": ["workload", "rate", "rate per CPU second", "target"], "rows": intake},
            "service": {
                "header": ["service orders (售服单), SQLite", "median / p95", "SQL", "target"],
                "rows": service_rows,
            },
        },
    }


def _load_text(load: dict[str, Any]) -> str:
    def one(value: float | None) -> str:
        return "?" if value is None else f"{value:.2f}"

    return f"{one(load['before'])} → {one(load['after'])}"


def render(summary: dict[str, Any]) -> str:
    """The README block: the tables, each followed by each source with its date and load before → after."""
    lines = [BEGIN]
    for name, table in summary["tables"].items():
        if not table["rows"]:
            continue
        lines.append("")
        lines.append("| " + " | ".join(table["header"]) + " |")
        lines.append("|" + "---|" * len(table["header"]))
        for row in table["rows"]:
            lines.append("| " + " | ".join([row["workload"], *row["cells"]]) + " |")
        used = sorted({s for row in table["rows"] for s in row["sources"] if s in summary["sources"]})
        notes = [
            f"`{summary['sources'][s]['file']}` ({summary['sources'][s]['measured_at'] or 'undated'}, "
            f"load {_load_text(summary['sources'][s]['load'])})"
            for s in used
        ]
        lines.append("")
        lines.append(f"Measured by {', '.join(notes)}." if notes else f"({name}: no results yet.)")
    lines.append("")
    lines.append(END)
    return "\n".join(lines)


def readme_block(text: str) -> str:
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when out of date")
    args = parser.parse_args()
    summary = collect()
    summary_text = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    readme = README.read_text(encoding="utf-8")
    block = render(summary)
    if args.check:
        stale = []
        if not SUMMARY.exists() or SUMMARY.read_text(encoding="utf-8") != summary_text:
            stale.append(str(SUMMARY.relative_to(ROOT)))
        if readme_block(readme) != block:
            stale.append("README.md")
        if stale:
            print("out of date (run python bench/report.py):", ", ".join(stale), file=sys.stderr)
            sys.exit(1)
        return
    SUMMARY.write_text(summary_text, encoding="utf-8")
    README.write_text(readme.replace(readme_block(readme), block), encoding="utf-8")
    print(f"written {SUMMARY.relative_to(ROOT)} and the tables of README.md")


if __name__ == "__main__":
    main()

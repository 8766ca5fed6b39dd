"""The soak's load: a realistic mix against two web processes (SOAK_HOSTS, comma-separated).

Agents register complaints through the API, acknowledge them and dispatch them to a department;
handlers verify, log a contact and reply; agents resolve and record the follow-up; managers read the
queue and the KPI figures. Every successful write is appended to the journal (SOAK_JOURNAL) so that
the audit can prove that each one left its event behind.
"""

from __future__ import annotations

import json
import os
import random
import threading

from locust import HttpUser, between, task

HOSTS = [h for h in os.environ.get("SOAK_HOSTS", "http://127.0.0.1:8101").split(",") if h]
AGENT_KEY = os.environ.get("SOAK_AGENT_KEY", "")
HANDLER_KEY = os.environ.get("SOAK_HANDLER_KEY", "")
MANAGER_KEY = os.environ.get("SOAK_MANAGER_KEY", "")
JOURNAL = os.environ.get("SOAK_JOURNAL", "var/soak/journal.jsonl")
TYPES = ["quality", "service", "logistics", "delivery", "installation"]
PRODUCTS = ["XD-1001", "XD-1002", "TD-1001", "SF-1002", ""]

_lock = threading.Lock()
_counter = [0]
# Complaints this load created, by stage; shared by all simulated users of the process.
_registered: list[str] = []
_acknowledged: list[str] = []
_resolvable: list[str] = []


def journal(action: str, number: str, **extra: object) -> None:
    with _lock, open(JOURNAL, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"action": action, "number": number, **extra}, ensure_ascii=False) + "\n")


def _take(bucket: list[str]) -> str | None:
    with _lock:
        if not bucket:
            return None
        return bucket.pop(random.randrange(len(bucket)))


def _put(bucket: list[str], number: str) -> None:
    with _lock:
        bucket.append(number)


class Base(HttpUser):
    abstract = True
    host = HOSTS[0]
    wait_time = between(0.05, 0.3)
    key = ""

    def url(self, path: str) -> str:
        return random.choice(HOSTS) + path

    def call(self, method: str, path: str, name: str, **kwargs: object):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.key}"}
        with self.client.request(
            method, self.url(path), name=name, headers=headers, catch_response=True, **kwargs
        ) as r:
            if r.status_code >= 500:
                r.failure(f"{r.status_code}")
            elif r.status_code >= 400:
                # A refusal (a race with another simulated user) is an answer, not a failure.
                r.success()
            return r


class Agent(Base):
    weight = 3
    key = AGENT_KEY

    @task(5)
    def register(self) -> None:
        with _lock:
            _counter[0] += 1
            index = _counter[0]
        payload = {
            "channel": "api",
            "customer_name": "压测客户",
            "phone": f"188{os.getpid() % 100:02d}{index:06d}",
            # Customer messages (receipt, result) then go out by e-mail too: the outbox is audited.
            "email": f"soak{os.getpid()}-{index}@example.com",
            "description": "压测：吊灯安装后异响，要求上门检修。",
            "type": random.choice(TYPES),
            "priority": random.choice([1, 2, 3, 3]),
            "external_ref": f"SOAK-{os.getpid()}-{index}",
        }
        if product := random.choice(PRODUCTS):
            payload["product_model"] = product
        r = self.call("POST", "/api/v1/complaints", "intake", json=payload)
        if r.status_code == 201:
            number = r.json()["number"]
            journal("registered", number)
            _put(_registered, number)

    @task(3)
    def acknowledge(self) -> None:
        number = _take(_registered)
        if number is None:
            return
        r = self.call("POST", f"/api/v1/complaints/{number}/acknowledge", "acknowledge")
        if r.status_code == 200:
            journal("acknowledge", number)
            _put(_acknowledged, number)

    @task(3)
    def dispatch(self) -> None:
        number = _take(_acknowledged)
        if number is None:
            return
        body = {"assignments": [{"department": "quality", "handler": "handler", "instruction": "请核实处理"}]}
        r = self.call("POST", f"/api/v1/complaints/{number}/dispatch", "dispatch", json=body)
        if r.status_code == 201:
            journal("dispatch", number, tasks=[t["id"] for t in r.json()])

    @task(2)
    def resolve(self) -> None:
        number = _take(_resolvable)
        if number is None:
            return
        r = self.call("POST", f"/api/v1/complaints/{number}/resolve", "resolve", json={"resolution": "已上门更换"})
        if r.status_code == 200:
            journal("resolve", number)

    @task(2)
    def queue(self) -> None:
        self.call("GET", "/api/v1/complaints?limit=50", "queue")


class Handler(Base):
    weight = 2
    key = HANDLER_KEY

    @task
    def work_inbox(self) -> None:
        r = self.call("GET", "/api/v1/tasks?limit=20", "inbox")
        if r.status_code != 200:
            return
        items = [t for t in r.json().get("items", []) if t.get("status") in ("dispatched", "in_progress")]
        if not items:
            return
        item = random.choice(items)
        task_id, number = item["id"], item.get("complaint") or item.get("complaint_number")
        if item["status"] == "dispatched":
            r = self.call("POST", f"/api/v1/tasks/{task_id}/verify", "verify", json={"note": ""})
            if r.status_code == 200:
                journal("task_verified", str(number), task=task_id)
            return
        r = self.call(
            "POST",
            f"/api/v1/tasks/{task_id}/contacts",
            "contact",
            json={"channel": "phone", "outcome": "reached", "summary": "已电话联系客户"},
        )
        if r.status_code in (200, 201):
            journal("contact_logged", str(number), task=task_id)
        r = self.call("POST", f"/api/v1/tasks/{task_id}/reply", "reply", json={"reply": "已安排上门更换配件"})
        if r.status_code == 200:
            journal("task_replied", str(number), task=task_id)
            _put(_resolvable, str(number))


class Reader(Base):
    weight = 1
    key = MANAGER_KEY

    @task(2)
    def kpis(self) -> None:
        self.call("GET", "/api/v1/kpis", "kpis")

    @task(1)
    def followups(self) -> None:
        self.call("GET", "/api/v1/complaints?status=resolved&limit=20", "resolved list")

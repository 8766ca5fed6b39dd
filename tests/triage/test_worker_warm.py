"""A gunicorn worker loads the triage model before it accepts a connection (closeloop/gunicorn_conf.py):
the first intake after a worker starts no longer waits for the pickled model (issue 20)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from closeloop import gunicorn_conf
from closeloop.cli.management.commands.serve import gunicorn_command
from closeloop.triage import learn
from closeloop.triage.services import triage_train
from closeloop.triage.synthetic import Sample, history


@pytest.mark.django_db(transaction=True)  # the hook closes the worker's connection, as gunicorn's would
def test_a_worker_has_the_model_before_its_first_request(
    import_history: Callable[[list[Sample]], None], settings: Any
) -> None:
    settings.TRIAGE_MIN_HISTORY = 300
    import_history(history(400, seed=7))
    run = triage_train()
    learn.forget()  # a new worker: nothing loaded
    assert learn._state["learned"] is None

    gunicorn_conf.post_worker_init(worker=None)

    assert learn._state["version"] == run.version
    assert learn._state["learned"] is not None
    assert connection.connection is None  # the first request opens its own


def test_serve_runs_gunicorn_with_these_settings() -> None:
    command = gunicorn_command(host="127.0.0.1", port=8000, workers=2)
    at = command.index("--config")
    assert command[at + 1] == "python:closeloop.gunicorn_conf"

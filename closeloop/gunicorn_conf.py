"""gunicorn's settings for CloseLoop's web workers: `gunicorn closeloop.wsgi:application --config
python:closeloop.gunicorn_conf …` (what `closeloop serve` runs; the systemd unit in docs/operations.md).

`post_worker_init`: what a worker loads before it accepts its first connection. The triage model (issue
19) is a pickled scikit-learn model read from the database on first use, about 1.8 s, which the first
intake after every start of a worker waited: with two workers and four clients, one request in 2,000
took 1.8–2.0 s, and a run of 300 intakes lost most of a worker (issue 20). A database that cannot be read
yet (before `migrate`) leaves the model to its first use, as before.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def post_worker_init(worker: Any) -> None:
    web_process_warm()


def web_process_warm() -> None:
    from django.db import DatabaseError, connections
    from django.urls import get_resolver

    from closeloop.triage import learn

    get_resolver().url_patterns  # noqa: B018  (imports every app's URLs and views now)
    try:
        learn.current()
    except DatabaseError as exc:
        log.warning("the triage model was not loaded ahead of the first request: %s", exc)
    finally:
        connections.close_all()  # the worker's connection is opened by its first request, as usual

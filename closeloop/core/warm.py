"""What a web process loads before it answers its first request (closeloop/wsgi.py).

The triage model (issue 19) is a pickled scikit-learn model read from the database on first use: about
1.8 s, which the first intake after every start of a gunicorn worker waited (measured with two workers
and four clients: one request in 2,000 took 1.8–2.0 s, and a run of 300 intakes lost most of a worker).
Loaded here, the worker pays it while it boots, before it accepts a connection. A database that is not
there yet (before `migrate`) leaves the model to its first use, as before.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connections
from django.urls import get_resolver

log = logging.getLogger(__name__)


def web_process_warm() -> None:
    from closeloop.triage import learn

    get_resolver().url_patterns  # noqa: B018  (imports every app's URLs and views now)
    try:
        learn.current()
    except DatabaseError as exc:
        log.warning("the triage model was not loaded ahead of the first request: %s", exc)
    finally:
        connections.close_all()  # the worker's connection is opened by its first request, as usual

"""REST endpoints for postponements."""

from ninja import Router

router = Router(tags=["postponements"])

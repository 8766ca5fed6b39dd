"""REST endpoints for roster."""

from ninja import Router

router = Router(tags=["roster"])

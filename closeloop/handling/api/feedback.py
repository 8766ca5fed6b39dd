"""REST endpoints for feedback."""

from ninja import Router

router = Router(tags=["feedback"])

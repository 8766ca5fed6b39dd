"""REST endpoints for disputes."""

from ninja import Router

router = Router(tags=["disputes"])

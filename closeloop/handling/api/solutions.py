"""REST endpoints for solutions."""

from ninja import Router

router = Router(tags=["solutions"])

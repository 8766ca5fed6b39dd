"""REST endpoints for tasks."""

from ninja import Router

router = Router(tags=["tasks"])

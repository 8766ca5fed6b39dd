"""REST endpoints of the defects app."""

from ninja import Router

router = Router(tags=["defects"])

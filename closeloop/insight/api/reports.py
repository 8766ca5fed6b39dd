"""REST endpoints: reports."""

from ninja import Router

router = Router(tags=["reports"])

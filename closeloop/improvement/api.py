"""REST endpoints of the improvement app."""

from ninja import Router

router = Router(tags=["improvement"])

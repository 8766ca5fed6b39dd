"""REST endpoints: kpis."""

from ninja import Router

router = Router(tags=["kpis"])

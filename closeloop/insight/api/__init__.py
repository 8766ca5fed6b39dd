"""REST endpoints of KPIs, the dashboard's figures and the reports; one router for /api/v1."""

from ninja import Router

from closeloop.insight.api import kpis, reports, service_orders

router = Router(tags=["insight"])
router.add_router("", kpis.router)
router.add_router("", reports.router)
router.add_router("", service_orders.router)

"""Demo data for safety hazards: a customer calls about a ceiling light that smoked. Registered through
the intake service; the hazard check runs after its commit as it does for every intake, so the complaint
is made urgent, flagged and quality and management are told the natural way. Idempotent."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.services import IntakeData, complaint_register
from closeloop.directory.models import Product
from closeloop.triage.models import HazardFlag

DEMO_REF = "demo-hazard-1"
DEMO_MODEL = "XD-1004"  # 儿童房吸顶灯 星空款 in the demo catalogue


def demo_hazard() -> int:
    """Register the demo hazard; returns how many complaints were flagged (0 when it exists already or the
    demo users and catalogue are missing)."""
    agent = get_user_model().objects.filter(username="agent").first()
    product = Product.objects.filter(model=DEMO_MODEL).first()
    if agent is None or product is None or Complaint.objects.filter(external_ref=DEMO_REF).exists():
        return 0
    complaint = complaint_register(
        data=IntakeData(
            channel="hotline",
            customer_name="王静",
            phone="13700220001",
            province="四川",
            city="成都",
            description="孩子房间的吸顶灯晚上突然冒烟，有烧焦的味道，赶紧拉了电闸，没有起火。",
            type_code="quality",
            priority=3,
            received_at=timezone.now() - datetime.timedelta(minutes=20),
            product_model=product.model,
            demand="要求退货并检测",
            external_ref=DEMO_REF,
        ),
        actor=agent,
        via=Via.DESK,
    )
    return HazardFlag.objects.filter(complaint=complaint).count()

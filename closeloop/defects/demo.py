"""Demo data for early warning: three customers complain within two days about the same ceiling
light from the same production batch. They are registered through the intake service, and the spike
check runs as the worker would run it after each intake, so the alert to quality is raised the
natural way (with its events and notifications). Idempotent: a second run changes nothing."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from closeloop.complaints.models import Complaint, Via
from closeloop.complaints.services import IntakeData, complaint_register
from closeloop.defects.models import DefectAlert
from closeloop.defects.services.spikes import spike_check
from closeloop.directory.models import Product

DEMO_REF = "demo-defect-"
DEMO_MODEL = "XD-1001"  # LED吸顶灯 圆形 24W in the demo catalogue

COMPLAINTS = [
    # (hours before now, name, phone, province, city, description)
    (50, "周丽", "13700110001", "广东", "佛山", "吸顶灯安装两周后灯罩边缘发黄，通电时有焦味。"),
    (26, "陈建国", "13700110002", "江苏", "苏州", "灯具使用十天左右开始频闪，驱动电源处发烫。"),
    (3, "刘芳", "13700110003", "浙江", "宁波", "新买的吸顶灯闪烁后熄灭，拆开看到驱动电源有烧痕。"),
]


def demo_defects() -> int:
    """Register the demo spike; returns the number of alerts raised (0 when it exists already or
    the demo users and catalogue are missing)."""
    agent = get_user_model().objects.filter(username="agent").first()
    product = Product.objects.filter(model=DEMO_MODEL).first() or Product.objects.filter(is_active=True).first()
    if agent is None or product is None:
        return 0
    if Complaint.objects.filter(external_ref__startswith=DEMO_REF).exists():
        return 0
    now = timezone.now()
    batch = f"{timezone.localdate(now) - datetime.timedelta(days=40):%Y%m%d}-L3"
    for index, (hours, name, phone, province, city, description) in enumerate(COMPLAINTS, start=1):
        complaint = complaint_register(
            data=IntakeData(
                channel="hotline",
                customer_name=name,
                phone=phone,
                province=province,
                city=city,
                description=description,
                type_code="quality",
                priority=2,
                received_at=now - datetime.timedelta(hours=hours),
                product_model=product.model,
                batch_no=batch,
                demand="更换新灯",
                external_ref=f"{DEMO_REF}{index}",
            ),
            actor=agent,
            via=Via.DESK,
        )
        # The worker does this after each intake; the demo need not wait for it (the check is idempotent).
        spike_check(complaint=complaint)
    return DefectAlert.objects.filter(complaints__external_ref__startswith=DEMO_REF).distinct().count()

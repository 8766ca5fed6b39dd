"""Similar complaints on the complaint page, and text clusters raising one defect alert without batch
numbers."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from closeloop.complaints.models import Complaint, Event
from closeloop.defects.models import DefectAlert
from closeloop.directory.models import Product
from closeloop.notifications.models import Notification
from closeloop.triage.similar import clusters_scan, similar_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def line_products(product: Product) -> list[Product]:
    """Four models of the ceiling-light line: a cluster spread over them stays below any one model's spike."""
    others = [
        Product.objects.create(model=f"XD-10{i}", line=product.line, name=f"吸顶灯{i}", name_en=f"Ceiling {i}")
        for i in range(1, 4)
    ]
    return [product, *others]


def test_the_most_similar_complaint_comes_first(
    make_complaint: Callable[..., Complaint], agent: User, product: Product
) -> None:
    mine = make_complaint(
        description="吸顶灯灯罩发黄，用了三个月就变色了", product_model=product.model, province="浙江"
    )
    close = make_complaint(description="灯罩发黄变色，才用三个月", product_model=product.model, province="浙江")
    far = make_complaint(description="安装师傅迟到两个小时", product_model=product.model)
    rows = similar_to(complaint=mine, user=agent)
    assert [r.complaint.number for r in rows][:1] == [close.number]
    assert far.number not in [r.complaint.number for r in rows]
    assert rows[0].same_product and rows[0].same_region
    assert any("发黄" in w for w in rows[0].words)


def test_the_complaint_page_loads_similar_complaints_with_repeat_and_merge(
    make_complaint: Callable[..., Complaint], agent: User, client: Any, product: Product
) -> None:
    mine = make_complaint(description="吸顶灯一直闪烁，晚上没法用", product_model=product.model)
    other = make_complaint(description="吸顶灯一直闪烁，眼睛难受", product_model=product.model)
    client.force_login(agent)
    page = client.get(f"/desk/c/{mine.number}/").content.decode()
    assert f"/desk/triage/similar/{mine.number}/" in page
    part = client.get(f"/desk/triage/similar/{mine.number}/").content.decode()
    assert other.number in part
    assert f"/desk/f/repeats/{mine.number}/link/" in part
    assert f"/desk/f/repeats/{other.number}/merge/" in part


def test_a_text_cluster_across_models_raises_one_alert(
    make_complaint: Callable[..., Complaint],
    line_products: list[Product],
    settings: Any,
    make_user: Callable[..., User],
) -> None:
    settings.TRIAGE_CLUSTER_SIZE = 5
    quality = make_user("quality", username="q_cluster")
    now = timezone.now()
    wording = [
        "吸顶灯的驱动电源嗡嗡响，晚上睡不着",
        "灯的驱动电源有嗡嗡的响声，很吵",
        "吸顶灯嗡嗡响，像是驱动电源的声音",
        "驱动电源嗡嗡响个不停，晚上更明显",
        "灯一开就嗡嗡响，驱动电源那里",
    ]
    cluster = [
        make_complaint(
            description=text,
            product_model=line_products[i % 4].model,
            received_at=now - datetime.timedelta(days=i),
        )
        for i, text in enumerate(wording)
    ]
    make_complaint(description="物流太慢了，等了两周", product_model=line_products[0].model)

    alerts = clusters_scan(now=now)

    assert len(alerts) == 1
    alert = DefectAlert.objects.get()
    assert set(alert.complaints.values_list("number", flat=True)) == {c.number for c in cluster}
    assert alert.batch_no == ""
    assert Event.objects.filter(action="defect_alert_raised").count() == 5
    assert Notification.objects.filter(kind="defect_alert", recipient=quality, method="in_app").count() == 1
    # A second scan finds every complaint of the cluster taken: nothing new.
    assert clusters_scan(now=now) == []
    assert DefectAlert.objects.count() == 1


def test_a_cluster_below_the_threshold_raises_nothing(
    make_complaint: Callable[..., Complaint], line_products: list[Product], settings: Any
) -> None:
    settings.TRIAGE_CLUSTER_SIZE = 5
    for i in range(4):
        make_complaint(description="吸顶灯驱动电源嗡嗡响", product_model=line_products[i].model)
    assert clusters_scan() == []
    assert not DefectAlert.objects.exists()


def test_a_complaint_that_came_in_without_an_agent_is_offered_the_suggested_priority(
    make_complaint: Callable[..., Complaint], agent: User, client: Any
) -> None:
    complaint = make_complaint(
        description="等了两个星期没人处理，再不解决就投诉到消协", priority=3, via="portal", actor=None
    )
    client.force_login(agent)
    part = client.get(f"/desk/triage/similar/{complaint.number}/").content.decode()
    assert "data-triage-suggested" in part
    assert f"/desk/c/{complaint.number}/sla/priority/" in part
    assert 'name="priority" value="2"' in part

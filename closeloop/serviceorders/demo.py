"""Demo service orders: every kind, at different steps of its path, through the real services (with
their clocks, events and SMS); the technical-support and consultation answers link the knowledge-base
article they followed (the demo articles are made first). Warranty terms for the catalogue (12 months;
24 for the first line) and a return policy per product line. Idempotent: nothing is added once a
service order exists."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from closeloop.complaints.models import Via
from closeloop.directory.models import Product, ProductLine
from closeloop.knowledge.demo import demo_articles
from closeloop.knowledge.models import Article
from closeloop.serviceorders.models import ReturnPolicy, ServiceOrder, WarrantyTerm
from closeloop.serviceorders.services import OrderData, order_register, order_transition

# (kind, name, phone, days ago, days since purchase, fault, steps: [(action, actor, data)])
ORDERS: list[tuple[str, str, str, int, int, str, list[tuple[str, str, dict[str, Any]]]]] = [
    ("repair", "孙丽", "13600220001", 2, 200, "吸顶灯不亮，开关无反应。", [("book", "agent", {"slot": "09-11"})]),
    (
        "repair",
        "钱伟",
        "13600220002",
        6,
        500,
        "灯具频闪，怀疑驱动电源故障。",
        [
            ("book", "agent", {"slot": "14-16", "day_offset": -1}),
            (
                "record_visit",
                "handler",
                {
                    "diagnosis": "驱动电源老化",
                    "labour_minutes": 45,
                    "labour_cost": "60",
                    "customer_signed": True,
                    "parts": [{"name": "驱动电源 24W", "part_no": "DR-24", "quantity": 1, "unit_cost": "38.00"}],
                },
            ),
            ("resolve", "handler", {"resolution": "更换驱动电源，灯具恢复正常。"}),
        ],
    ),
    ("installation", "周强", "13600220003", 1, 3, "新买的吸顶灯需要上门安装。", [("book", "agent", {"slot": "11-13"})]),
    (
        "inspection",
        "吴敏",
        "13600220004",
        3,
        90,
        "灯具发热严重，请上门检测。",
        [("dispatch", "agent", {"department": "tech"})],
    ),
    (
        "exchange",
        "郑芳",
        "13600220005",
        4,
        10,
        "灯罩运输破损，要求换货。",
        [
            ("authorise", "agent", {}),
            ("ship_in", "agent", {"carrier": "顺丰速运", "tracking_no": "SF1400220005", "pickup": True}),
        ],
    ),
    (
        "return",
        "王磊",
        "13600220006",
        5,
        5,
        "颜色与图片不符，七天无理由退货。",
        [
            ("authorise", "agent", {}),
            ("ship_in", "agent", {"carrier": "中通快递", "tracking_no": "ZT7800220006"}),
            ("receive", "agent", {}),
        ],
    ),
    (
        "support",
        "冯静",
        "13600220007",
        1,
        30,
        "智能灯无法连接手机App。",
        [
            ("record_session", "agent", {"minutes": 20, "tool": "视频通话", "notes": "指导重置网络并重新配对"}),
            (
                "resolve",
                "agent",
                {
                    "resolution": "按知识库步骤切换到 2.4GHz Wi-Fi 后配网成功。",
                    "article_title": "智能调光吸顶灯无法连接 App",
                },
            ),
        ],
    ),
    (
        "consultation",
        "陈晨",
        "13600220008",
        0,
        400,
        "装修后想换筒灯，咨询旧灯开孔能否直接安装。",
        [
            (
                "answer",
                "agent",
                {
                    "resolution": "告知本款开孔 75mm，按知识库步骤量开孔后选购，或加装转换圈。",
                    "article_title": "筒灯开孔尺寸与旧灯不符",
                    "article_note": "客户开孔 80mm，建议加装转换圈",
                },
            )
        ],
    ),
    (
        "support",
        "褚楠",
        "13600220009",
        0,
        120,
        "台灯触控按键按了没反应。",
        [
            (
                "answer",
                "agent",
                {
                    "resolution": "电话指导移开金属桌面并重新插电校准，已恢复。",
                    "article_title": "护眼台灯触控按键不灵敏",
                },
            )
        ],
    ),
]


DEMO_STAFF = ("agent", "handler")


def demo_service_orders() -> int:
    """Add the demo orders once; returns how many."""
    if ServiceOrder.objects.exists():
        return 0
    lines = list(ProductLine.objects.order_by("code"))
    for index, line in enumerate(lines):
        ReturnPolicy.objects.get_or_create(
            line=line, defaults={"return_days": 7, "exchange_days": 15, "condition": "包装完好，不影响二次销售"}
        )
        WarrantyTerm.objects.bulk_create(
            WarrantyTerm(product=p, months=24 if index == 0 else 12)
            for p in Product.objects.filter(line=line, warranty__isnull=True)
        )
    # The demo's agent registers and the demo's handler (a member of Technical Support) visits.
    users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_STAFF)}
    if "agent" not in users or "handler" not in users:
        return 0
    # Support and consultation answers follow the knowledge base's articles: they exist first.
    demo_articles()
    articles = {a.title: a for a in Article.objects.select_related("product_line")}
    products = list(Product.objects.filter(is_active=True).order_by("model")[: len(ORDERS)])
    now = timezone.now()
    count = 0
    for i, (kind, name, phone, days_ago, bought_days, fault, steps) in enumerate(ORDERS):
        received = now - datetime.timedelta(days=days_ago, hours=2)
        product = products[i % len(products)] if products else None
        article = next((articles.get(str(d.get("article_title"))) for _a, _u, d in steps if "article_title" in d), None)
        if article is not None and article.product_line_id is not None:  # a product the article is about
            product = (
                Product.objects.filter(is_active=True, line_id=article.product_line_id).order_by("model").first()
                or product
            )
        order = order_register(
            data=OrderData(
                kind=kind,
                channel="hotline",
                customer_name=name,
                phone=phone,
                description=fault,
                province="广东",
                city="佛山",
                received_at=received,
                product_model=product.model if product else "",
                purchase_date=(received - datetime.timedelta(days=bought_days)).date(),
                serial_no=f"SN{2026000 + i}",
            ),
            actor=users["agent"],
            via=Via.DESK,
            now=received,
        )
        for action, actor, data in steps:
            data = dict(data)
            if "article_title" in data:
                linked = articles.get(str(data.pop("article_title")))
                data["article"] = linked.pk if linked is not None else None
            if action == "book":
                day = timezone.localdate(now) + datetime.timedelta(days=data.pop("day_offset", 0))
                data.update(technician="handler", day=day)
                # Booked when the order came in, so that today's visits fill the technician's day page.
                order = order_transition(
                    order=order, action=action, actor=users[actor], via=Via.DESK, data=data, now=received
                )
                continue
            order = order_transition(order=order, action=action, actor=users[actor], via=Via.DESK, data=data)
        count += 1
    return count

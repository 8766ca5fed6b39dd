"""The service-order queue's rows, written in Python (issue 20).

As the complaint queue's (complaints/templatetags/desk.py: queue_rows): a 50-row template loop with a
dozen lookups and filters a row was most of the page's time. Every value goes in through escape(), as
the template's autoescape did; labels in the active language are looked up once per page."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from closeloop.serviceorders.lifecycle import Kind, ServiceStatus
from closeloop.serviceorders.models import ServiceOrder

# What a row reads (with select_related of exactly these relations): the rest of the order's columns
# are left in the database.
ROW_FIELDS = (
    "number",
    "kind",
    "status",
    "received_at",
    "next_due_at",
    "product_text",
    "customer",
    "customer__name",
    "product",
    "product__model",
    "product__name",
    "product__name_en",
    "department",
    "department__name",
    "department__name_en",
)
ROW_RELATIONS = ("customer", "product", "department")

_ROW = (
    '<tr><td><a href="{href}">{number}</a></td><td>{kind}</td>\n'
    "      <td>{status}</td><td>{customer}</td><td>{product}</td>\n"
    "      <td>{department}</td><td>{received}</td><td>{due}</td></tr>"
)
_NUMBER_SLOT = "NUMBER-SLOT"
_URL_SAFE = "!$&'()*+,;=/~:@"  # as reverse() quotes a path argument
_DASH = "—"


def queue_rows(orders: Iterable[ServiceOrder]) -> SafeString:
    """The `<tr>`s of the queue's table for these orders, or its one "No service orders." row."""
    href_template = escape(reverse("serviceorders:detail", args=[_NUMBER_SLOT]))
    kinds = {value: escape(str(label)) for value, label in Kind.choices}  # escape(lazy) stays lazy
    statuses = {value: escape(str(label)) for value, label in ServiceStatus.choices}
    departments: dict[int | None, str] = {}
    out = []
    for order in orders:
        if (department := departments.get(order.department_id)) is None:
            department = departments[order.department_id] = (
                escape(order.department.label) if order.department_id and order.department else _DASH
            )
        out.append(
            _ROW.format(
                href=href_template.replace(_NUMBER_SLOT, escape(quote(order.number, safe=_URL_SAFE))),
                number=escape(order.number),
                kind=kinds.get(order.kind) or escape(order.kind),
                status=statuses.get(order.status) or escape(order.status),
                customer=escape(order.customer.name),
                product=escape(order.product_label),
                department=department,
                received=f"{localtime(order.received_at):%Y-%m-%d %H:%M}",
                due=f"{localtime(order.next_due_at):%Y-%m-%d %H:%M}" if order.next_due_at else _DASH,
            )
        )
    if not out:
        return format_html('<tr><td colspan="8" class="muted">{}</td></tr>', _("No service orders."))
    return mark_safe("\n  ".join(out))  # noqa: S308  # every part escaped above

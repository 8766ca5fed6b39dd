"""Reads of the directory for the desk: finding a returning customer, completing a product model."""

from __future__ import annotations

import re

from django.db.models import Count, Q, QuerySet

from closeloop.directory.models import Customer, Product

# Fewer digits match too many customers to be useful, and would let anyone page through the book.
PHONE_PREFIX_MIN_DIGITS = 4
LOOKUP_LIMIT = 8


def phone_digits(raw: str) -> str:
    """The digits of a typed phone number, without a +86 / 0086 country prefix."""
    raw = (raw or "").strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+86"):
        return digits[2:]
    if digits.startswith("0086"):
        return digits[4:]
    return digits


def customers_by_contact(*, phone: str = "", email: str = "", limit: int = LOOKUP_LIMIT) -> QuerySet[Customer]:
    """Customers whose phone starts with the typed digits (at least 4) or whose e-mail is the typed
    one, each with `previous_complaints` (their number of complaints). Empty when neither is usable."""
    digits = phone_digits(phone)
    email = (email or "").strip()
    condition = Q()
    if len(digits) >= PHONE_PREFIX_MIN_DIGITS:
        condition |= Q(phone__startswith=digits)
    if "@" in email:
        condition |= Q(email__iexact=email)
    if not condition:
        return Customer.objects.none()
    return (
        Customer.objects.filter(condition, anonymised_at__isnull=True)
        .annotate(previous_complaints=Count("complaints"))
        .order_by("-previous_complaints", "name", "id")[:limit]
    )


def products_autocomplete(*, q: str, limit: int = 10) -> QuerySet[Product]:
    """Active products whose model starts with `q` or whose name contains it."""
    q = (q or "").strip()
    if not q:
        return Product.objects.none()
    return (
        Product.objects.filter(is_active=True)
        .filter(Q(model__istartswith=q) | Q(name__icontains=q) | Q(name_en__icontains=q))
        .order_by("model")[:limit]
    )

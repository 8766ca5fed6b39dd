"""Reads of the directory for the desk: finding a returning customer, completing a product model, and
the shapes of a complete phone number and e-mail address (what a search may look up exactly)."""

from __future__ import annotations

import re

from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Replace, Upper

from closeloop.core import refcache
from closeloop.directory.models import CauseCategory, ComplaintType, Customer, Department, Product

# Fewer digits match too many customers to be useful, and would let anyone page through the book.
PHONE_PREFIX_MIN_DIGITS = 4
LOOKUP_LIMIT = 8

# Phones are stored as these digits (complaints.services.normalize_phone).
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{9,11}$")  # area code 0xx/0xxx + 7–8 digits
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# What someone types for a phone: digits with spaces, dashes, brackets, a +86.
_PHONE_LIKE = re.compile(r"^[\d\s\-+()]+$")


def phone_digits(raw: str) -> str:
    """The digits of a typed phone number, without a +86 / 0086 country prefix."""
    raw = (raw or "").strip()
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+86"):
        return digits[2:]
    if digits.startswith("0086"):
        return digits[4:]
    return digits


def full_phone(raw: str) -> str:
    """The stored form of `raw` when it is a whole mainland mobile or landline number, else ""."""
    raw = (raw or "").strip()
    if not _PHONE_LIKE.match(raw):
        return ""
    digits = phone_digits(raw)
    return digits if MOBILE.match(digits) or LANDLINE.match(digits) else ""


def full_email(raw: str) -> str:
    """The stored (lower-case) form of `raw` when it is a whole e-mail address, else ""."""
    raw = (raw or "").strip()
    return raw.lower() if EMAIL.match(raw) else ""


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


def bare_model(text: str) -> str:
    """A model as its bare-model index holds it: upper case, without dashes ("xd-1001" → "XD1001")."""
    return text.strip().upper().replace("-", "")


def products_by_bare_model(term: str) -> QuerySet[Product]:
    """Products whose model, without its dashes, is the term's ("XD1001" and "xd-1001" find XD-1001);
    read from the index product_model_bare."""
    bare = bare_model(term)
    if not bare:
        return Product.objects.none()
    return Product.objects.alias(bare=Replace(Upper("model"), Value("-"), Value(""))).filter(bare=bare)


def products_autocomplete(*, q: str, limit: int = 10) -> QuerySet[Product]:
    """Active products whose model starts with `q` or whose name contains it."""
    q = (q or "").strip()
    if not q:
        return Product.objects.none()
    return (
        Product.objects.filter(is_active=True)
        .filter(
            Q(model__istartswith=q)
            | Q(name__icontains=q)
            | Q(name_en__icontains=q)
            | Q(pk__in=products_by_bare_model(q).values("pk"))
        )
        .order_by("model")[:limit]
    )


def complaint_types_active() -> list[ComplaintType]:
    """The active complaint types with their default department, from the per-process reference cache
    (closeloop/core/refcache.py: a save or delete in this process clears it, other processes see it within
    the TTL). Labels are read per language at render time, so one entry serves every language."""
    return refcache.cached(
        "complaint-types-active",
        lambda: list(ComplaintType.objects.filter(is_active=True).select_related("default_department")),
    )


def departments_active() -> list[Department]:
    """The active departments, from the reference cache as complaint_types_active."""
    return refcache.cached("departments-active", lambda: list(Department.objects.filter(is_active=True)))


def cause_category_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """The active root-cause categories for a select: one group per category, the category itself
    (when no sub-cause fits) followed by its sub-causes. One query."""
    rows = list(CauseCategory.objects.filter(is_active=True).select_related("parent"))
    groups: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    for row in rows:
        if row.parent_id is None:
            groups.setdefault(row.pk, (row.label, []))[1].insert(0, (row.pk, row.label))
    for row in rows:
        if row.parent_id is not None and row.parent_id in groups:
            groups[row.parent_id][1].append((row.pk, row.path_label))
    return list(groups.values())

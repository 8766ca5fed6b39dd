"""Who and what complaints are about: customers, departments and their people, products, types."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from closeloop.core.i18n import BilingualNamed


class Department(BilingualNamed):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")


class Membership(models.Model):
    """A person's place in a department. Managers of a department see and assign its work."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="memberships")
    is_manager = models.BooleanField(_("manager"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "department"], name="membership_unique")]
        verbose_name = _("department membership")
        verbose_name_plural = _("department memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}"


class ProductLine(BilingualNamed):
    code = models.SlugField(_("code"), max_length=40, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")


class Product(BilingualNamed):
    line = models.ForeignKey(
        ProductLine, on_delete=models.PROTECT, related_name="products", verbose_name=_("product line")
    )
    model = models.CharField(_("model / SKU"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["model"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.model} {self.label}"


class ComplaintType(BilingualNamed):
    """Configurable tree of complaint types (质量, 服务, 物流, ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent type")
    )
    # Proposed as the responsible department when an agent picks this type.
    default_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("default department"),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("complaint type")
        verbose_name_plural = _("complaint types")


class CustomerKind(models.TextChoices):
    END_USER = "end_user", _("end user")
    DEPOSIT = "deposit", _("deposit-paid customer")
    DEALER = "dealer", _("dealer / agent")
    STORE = "store", _("cooperating store")


class Customer(models.Model):
    """A complainant. Reused when the same phone or e-mail comes again."""

    kind = models.CharField(
        _("complainant type"), max_length=12, choices=CustomerKind.choices, default=CustomerKind.END_USER, db_index=True
    )
    name = models.CharField(_("name"), max_length=100)
    organisation = models.CharField(_("company / store"), max_length=150, blank=True)
    # Phones are stored as digits only (e.g. 13812345678) so that lookups match however typed.
    phone = models.CharField(_("phone"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    anonymised_at = models.DateTimeField(_("anonymised"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("view_personal_data", _("Can see unmasked personal data"))]

    def __str__(self) -> str:
        return self.name

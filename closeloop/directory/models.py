"""Who and what complaints are about: customers, departments and their people, products, types."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Replace, Upper
from django.utils.translation import gettext_lazy as _

from closeloop.core.events import AppendOnlyModel
from closeloop.core.i18n import BilingualNamed
from closeloop.core.models import UpdatedAtModel


class Department(UpdatedAtModel, BilingualNamed):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Departments such as technical support owe an analysis within the policy's `analysis` target (4wh).
    has_analysis_target = models.BooleanField(_("analysis deadline on its tasks"), default=False)

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


class Product(UpdatedAtModel, BilingualNamed):
    line = models.ForeignKey(
        ProductLine, on_delete=models.PROTECT, related_name="products", verbose_name=_("product line")
    )
    model = models.CharField(_("model / SKU"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["model"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            # A model typed without its dashes ("XD1001" for XD-1001): selectors.products_by_bare_model.
            models.Index(Replace(Upper("model"), Value("-"), Value("")), name="product_model_bare"),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.label}"


class ComplaintType(UpdatedAtModel, BilingualNamed):
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


class CauseCategory(BilingualNamed):
    """Configurable tree of root-cause categories (default 人、机、料、法、环、测 with their sub-causes, as in
    5M1E and 8D analysis). Feedback forms and improvement actions pick one; their free text stays the
    detail. Two levels: a category and its sub-causes."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent category"),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("root-cause category")
        verbose_name_plural = _("root-cause categories")

    @property
    def path_label(self) -> str:
        """`人／培训不足` for a sub-cause, the name alone for a category (parent must be loaded)."""
        return f"{self.parent.label}／{self.label}" if self.parent_id and self.parent else self.label


class CustomerKind(models.TextChoices):
    END_USER = "end_user", _("end user")
    DEPOSIT = "deposit", _("deposit-paid customer")
    DEALER = "dealer", _("dealer / agent")
    STORE = "store", _("cooperating store")


class ServiceKind(models.TextChoices):
    """The kinds of service order (售服单). Here, beside the customer kinds, because the SLA policy rules
    (closeloop/sla) select a policy by it and sit below the service orders (serviceorders.lifecycle.Kind)."""

    REPAIR = "repair", _("repair")
    RETURN = "return", _("return")
    EXCHANGE = "exchange", _("exchange")
    INSTALLATION = "installation", _("installation")
    INSPECTION = "inspection", _("on-site inspection")
    SUPPORT = "support", _("technical support / remote assistance")
    CONSULTATION = "consultation", _("consultation")


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


class RosterEntry(UpdatedAtModel):
    """A line of the responsibility roster (责任岗位表): which department and handler take which
    complaint type / product line / region, from a date. Empty criteria match anything; the most
    specific matching line wins. Entries are ended, never deleted, and every change is logged."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="roster", verbose_name=_("department")
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="roster_entries",
        verbose_name=_("handler"),
    )
    complaint_type = models.ForeignKey(
        ComplaintType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("complaint type"),
    )
    product_line = models.ForeignKey(
        ProductLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("product line")
    )
    province = models.CharField(_("province"), max_length=30, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["department", "valid_from"]
        verbose_name = _("roster entry")
        verbose_name_plural = _("responsibility roster")
        indexes = [models.Index(fields=["valid_from", "valid_to"], name="roster_validity")]

    def __str__(self) -> str:
        return f"{self.department} ← {self.complaint_type or '*'} / {self.product_line or '*'} / {self.province or '*'}"


class RosterChange(AppendOnlyModel):
    """Append-only log of roster edits (who changed which line, before and after)."""

    entry = models.ForeignKey(RosterEntry, on_delete=models.PROTECT, related_name="changes")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("roster change")
        verbose_name_plural = _("roster changes")
        # GET /roster-changes: newest first, and its `updated_since`.
        indexes = [models.Index(fields=["at", "id"], name="roster_change_at")]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.action} @ {self.at:%Y-%m-%d %H:%M}"


class Absence(UpdatedAtModel):
    """Short leave. The department covers it (optionally a named colleague); the roster is not edited."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences", verbose_name=_("person")
    )
    starts = models.DateField(_("from"))
    ends = models.DateField(_("to"))
    cover = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("covered by"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")

    def __str__(self) -> str:
        return f"{self.user} {self.starts}–{self.ends}"

"""The filters of the KPI pages and the dashboard: a period (a month, or from/to dates) and the cuts of
kpis.md, read from the query string and written back into every link, so that a number's list shows
the complaints of the same period and cuts."""

from __future__ import annotations

import datetime
import re
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from closeloop.complaints.models import Channel, Priority
from closeloop.directory.models import (
    CauseCategory,
    ComplaintType,
    CustomerKind,
    Department,
    Membership,
    Product,
    ProductLine,
)
from closeloop.directory.regions import province_standard
from closeloop.handling.models import Task
from closeloop.insight.figures import UNCATEGORISED
from closeloop.insight.kpis import UNCATEGORISED_CAUSE, Cuts, Period

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_FIRST_DAY, _LAST_DAY = datetime.date(1970, 1, 1), datetime.date(9998, 12, 31)
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MonthField(forms.CharField):
    """`YYYY-MM` (what <input type="month"> sends) → (year, month)."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})

    def to_python(self, value: Any) -> tuple[int, int] | None:  # type: ignore[override]  # the narrower signature is intended
        text = (super().to_python(value) or "").strip()
        if not text:
            return None
        match = _MONTH.match(text)
        if match is None or not 1 <= int(match[2]) <= 12 or not 1970 <= int(match[1]) <= 9998:
            raise ValidationError(_("Enter a month as YYYY-MM."), code="invalid")
        return int(match[1]), int(match[2])


def previous_month(today: datetime.date) -> Period:
    return Period.month_of(today.replace(day=1) - datetime.timedelta(days=1))


def person(user: Any) -> str:
    return user.get_full_name() or user.get_username()


class FigureFilterForm(forms.Form):
    """The period (a month, or from/to dates) and the cuts of kpis.md, as the query string carries them:
    codes, usernames and models rather than ids, so that a link reads and survives a data reload."""

    month = MonthField(label=gettext_lazy("month"), required=False)
    start = forms.DateField(label=gettext_lazy("from"), required=False, widget=DATE_INPUT)
    end = forms.DateField(label=gettext_lazy("to"), required=False, widget=DATE_INPUT)
    department = forms.ChoiceField(label=gettext_lazy("department"), required=False)
    handler = forms.ChoiceField(label=gettext_lazy("handler"), required=False)
    product_line = forms.ChoiceField(label=gettext_lazy("product line"), required=False)
    product = forms.CharField(label=gettext_lazy("product model"), required=False, max_length=60)
    province = forms.CharField(label=gettext_lazy("province / region"), required=False, max_length=30)
    channel = forms.ChoiceField(label=gettext_lazy("channel"), required=False)
    type = forms.ChoiceField(label=gettext_lazy("complaint type"), required=False)
    priority = forms.ChoiceField(label=gettext_lazy("priority"), required=False)
    customer_kind = forms.ChoiceField(label=gettext_lazy("complainant type"), required=False)
    cause = forms.ChoiceField(label=gettext_lazy("root-cause category"), required=False)

    PERIOD_FIELDS = ("month", "start", "end")
    CUT_FIELDS = (
        "department",
        "handler",
        "product_line",
        "product",
        "province",
        "channel",
        "type",
        "priority",
        "customer_kind",
        "cause",
    )

    def __init__(self, data: QueryDict, *, scope: tuple[int, ...] | None, today: datetime.date) -> None:
        super().__init__(data, label_suffix="")
        self.scope = scope
        self.default_period = previous_month(today)
        self.product_obj: Product | None = None
        anything = [("", _("all"))]
        departments = Department.objects.order_by("code")
        if scope is not None:
            departments = departments.filter(pk__in=scope)
        self.departments = {d.code: d for d in departments}
        self.departments_by_pk = {d.pk: d for d in self.departments.values()}
        cast(forms.ChoiceField, self.fields["department"]).choices = anything + [
            (code, d.label) for code, d in self.departments.items()
        ]
        self.handlers = {u.get_username(): u for u in handler_choices(scope)}
        self.handlers_by_pk = {u.pk: u for u in self.handlers.values()}
        cast(forms.ChoiceField, self.fields["handler"]).choices = anything + [
            (name, person(u)) for name, u in self.handlers.items()
        ]
        self.product_lines = {line.code: line for line in ProductLine.objects.order_by("code")}
        cast(forms.ChoiceField, self.fields["product_line"]).choices = anything + [
            (c, line.label) for c, line in self.product_lines.items()
        ]
        self.types = {t.code: t for t in ComplaintType.objects.select_related("parent").order_by("sort_order", "code")}
        cast(forms.ChoiceField, self.fields["type"]).choices = anything + [
            (code, f"{t.parent.label} / {t.label}" if t.parent else t.label) for code, t in self.types.items()
        ]
        cast(forms.ChoiceField, self.fields["channel"]).choices = anything + list(Channel.choices)
        cast(forms.ChoiceField, self.fields["priority"]).choices = anything + [
            (str(v), label) for v, label in Priority.choices
        ]
        cast(forms.ChoiceField, self.fields["customer_kind"]).choices = anything + list(CustomerKind.choices)
        # The Pareto's bars are the top-level categories; a sub-cause is counted for its category.
        self.causes = {c.code: c for c in CauseCategory.objects.filter(parent__isnull=True)}
        cast(forms.ChoiceField, self.fields["cause"]).choices = [
            *anything,
            *[(code, c.label) for code, c in self.causes.items()],
            (UNCATEGORISED, _("uncategorised")),
        ]

    def clean_start(self) -> datetime.date | None:
        return self._in_range(self.cleaned_data.get("start"))

    def clean_end(self) -> datetime.date | None:
        return self._in_range(self.cleaned_data.get("end"))

    @staticmethod
    def _in_range(day: datetime.date | None) -> datetime.date | None:
        if day is not None and not _FIRST_DAY <= day <= _LAST_DAY:
            raise ValidationError(_("Choose a date between 1970 and 9998."), code="out_of_range")
        return day

    def clean_product(self) -> str:
        model = (self.cleaned_data.get("product") or "").strip()
        if model:
            self.product_obj = Product.objects.filter(model__iexact=model).first()
            if self.product_obj is None:
                raise ValidationError(_("No product has this model."), code="unknown")
            return self.product_obj.model
        return ""

    def clean_province(self) -> str:
        # 广东 and 广东省 are one region: the cut reads the standard name the complaints store.
        return province_standard(self.cleaned_data.get("province"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if "start" not in self.errors and "end" not in self.errors:
            if (start is None) != (end is None):
                self.add_error("end" if end is None else "start", _("Give both dates, or choose a month."))
            elif start and end and start > end:
                self.add_error("end", _("The end is before the start."))
        return data

    def _valid(self, name: str) -> Any:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return None if name in self.errors else self.cleaned_data.get(name)

    @property
    def is_range(self) -> bool:
        return bool(self._valid("start") and self._valid("end") and "start" not in self.errors)

    def period(self) -> Period:
        """The dates when both are valid, else the month, else the previous full month."""
        if self.is_range:
            return Period(self._valid("start"), self._valid("end"))
        month = self._valid("month")
        if month:
            return Period.month(*month)
        return self.default_period

    def cuts(self) -> Cuts:
        """The valid cuts; a malformed one is shown as an error and ignored."""
        value = self._valid
        department = self.departments.get(value("department") or "")
        handler = self.handlers.get(value("handler") or "")
        line = self.product_lines.get(value("product_line") or "")
        ctype = self.types.get(value("type") or "")
        cause_code = value("cause") or ""
        cause = UNCATEGORISED_CAUSE if cause_code == UNCATEGORISED else getattr(self.causes.get(cause_code), "pk", None)
        return Cuts(
            department=department.pk if department else None,
            handler=handler.pk if handler else None,
            product_line=line.pk if line else None,
            product=self.product_obj.pk if self.product_obj and value("product") else None,
            province=value("province") or "",
            channel=value("channel") or "",
            type=ctype.pk if ctype else None,
            priority=int(value("priority")) if value("priority") else None,
            customer_kind=value("customer_kind") or "",
            cause=cause,
        )

    def params(self, **overrides: str) -> dict[str, str]:
        """The filters as query parameters, in a fixed order; the period always explicit, so that a link
        shows the same figures next month."""
        period = self.period()
        params: dict[str, str] = {}
        if self.is_range:
            params["start"], params["end"] = period.start.isoformat(), period.end.isoformat()
        else:
            params["month"] = f"{period.start:%Y-%m}"
        for name in self.CUT_FIELDS:
            cleaned = self._valid(name)
            if cleaned not in (None, ""):
                params[name] = str(cleaned)
        params.update(overrides)
        return params

    def query(self, **overrides: str) -> str:
        return urlencode(self.params(**overrides))

    def summary(self) -> list[tuple[str, str]]:
        """The active cuts as (label, value) for a heading."""
        rows = []
        for name in self.CUT_FIELDS:
            cleaned = self._valid(name)
            if cleaned in (None, ""):
                continue
            field = self.fields[name]
            # a ChoiceField's choices are normalised to (value, label) pairs
            shown = dict(field.choices).get(cleaned, cleaned) if isinstance(field, forms.ChoiceField) else cleaned  # type: ignore[arg-type]
            rows.append((str(field.label), str(shown)))
        return rows

    def month_links(self) -> dict[str, str] | None:
        """Query strings of the month before and after, when a month is shown."""
        if self.is_range:
            return None
        period = self.period()
        following = Period.month_of(period.end + datetime.timedelta(days=1))
        return {
            "previous": self.query(month=f"{period.previous().start:%Y-%m}"),
            "next": self.query(month=f"{following.start:%Y-%m}"),
        }


def handler_choices(scope: tuple[int, ...] | None) -> list[Any]:
    """People in the departments of the scope, or who handled a task of theirs or on a complaint of
    theirs (one query): everyone the KPI table by handler can show, so it needs no query of its own."""
    user_model = get_user_model()
    members = Membership.objects.filter(user=OuterRef("pk"))
    tasks = Task.objects.filter(handler=OuterRef("pk"))
    if scope is not None:
        members = members.filter(department_id__in=scope)
        tasks = tasks.filter(Q(department_id__in=scope) | Q(complaint__department_id__in=scope))
    return list(user_model.objects.filter(Q(Exists(members)) | Q(Exists(tasks))).order_by("username"))

"""Suggestions at registration: type, priority, responsible department and product, each with a
confidence and the words behind it. Suggestions only — the form shows them and the agent accepts one
with a key; nothing here writes.

From the learned model once the installation has TRIAGE_MIN_HISTORY closed complaints and a model was
trained; before that (cold start) from rules: keywords per type, the roster (or the type's default
department) for the department, and the hazard lexicon for the priority.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from closeloop.complaints.models import Complaint, Priority
from closeloop.directory.models import ComplaintType, Department, Product, ProductLine
from closeloop.handling.services.roster import roster_propose
from closeloop.triage import learn
from closeloop.triage.hazards import hazard_assess
from closeloop.triage.text import model_codes, normalise

# Cold start: words that point to a type, strongest first within each type (the seed types' codes).
TYPE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "logistics": ("物流", "快递", "签收", "送到", "送货", "破损", "压扁", "上楼费", "磕碰"),
    "delivery": ("发错", "少了", "配件", "发票", "配送", "发货", "没到", "螺丝包"),
    "price": ("降价", "差价", "价格", "赠品", "优惠", "多收", "报价", "便宜", "贵了"),
    "installation": ("安装", "师傅", "打孔", "装好", "迟到"),
    "service": ("客服", "态度", "回电", "推诿", "没人处理", "挂电话", "人工"),
    "other": ("咨询", "积分", "保修政策", "宣传"),
    "quality": ("不亮", "闪", "坏", "故障", "开裂", "异味", "掉漆", "异响", "松动", "发黄", "失灵", "变形", "甲醛"),
}
URGENCY_WORDS = ("投诉到消协", "消协", "媒体", "曝光", "第三次", "律师", "12315")
REFERENCE_SECONDS = 60.0  # the catalogue, types and departments are re-read at most this often


@dataclass
class FieldSuggestion:
    value: str  # a type or department code, a priority rank as text, a product model
    label: str
    confidence: float
    words: list[str] = field(default_factory=list)
    source: str = "rules"  # rules | model | text


@dataclass
class Suggestions:
    type: FieldSuggestion | None = None
    department: FieldSuggestion | None = None
    priority: FieldSuggestion | None = None
    product: FieldSuggestion | None = None
    product_line: FieldSuggestion | None = None
    hazard_words: list[str] = field(default_factory=list)
    hazard_source: str = ""  # lexicon | model (closeloop/triage/hazards.py, hazard_assess)
    model_version: int | None = None  # None: cold start (rules)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        def one(s: FieldSuggestion | None) -> dict[str, Any] | None:
            return None if s is None else s.__dict__.copy()

        return {
            "type": one(self.type),
            "department": one(self.department),
            "priority": one(self.priority),
            "product": one(self.product),
            "product_line": one(self.product_line),
            "hazard_words": self.hazard_words,
            "hazard_source": self.hazard_source,
            "model_version": self.model_version,
        }


# --- reference data, per process ------------------------------------------------------------------------


@dataclass
class _Reference:
    loaded: float
    types: dict[str, ComplaintType]
    departments: dict[str, Department]
    products: dict[str, Product]  # by upper-cased model
    lines: list[tuple[str, ProductLine]]  # (name, line), longest name first
    product_names: list[tuple[str, Product]]


_reference: _Reference | None = None


def reference(*, fresh: bool = False) -> _Reference:
    global _reference
    now = time.monotonic()
    if fresh or _reference is None or now - _reference.loaded > REFERENCE_SECONDS:
        products = list(Product.objects.filter(is_active=True).select_related("line"))
        lines = list(ProductLine.objects.all())
        _reference = _Reference(
            loaded=now,
            types={
                t.code: t for t in ComplaintType.objects.filter(is_active=True).select_related("default_department")
            },
            departments={d.code: d for d in Department.objects.filter(is_active=True)},
            products={p.model.upper(): p for p in products},
            lines=sorted(((normalise(line.name), line) for line in lines if line.name), key=lambda x: -len(x[0])),
            product_names=sorted(
                ((normalise(p.name), p) for p in products if len(p.name) >= 3), key=lambda x: -len(x[0])
            ),
        )
    return _reference


def _priority_label(rank: int) -> str:
    return str(Priority(rank).label)


# --- the product named in the text ----------------------------------------------------------------------


def suggest_product(
    *, ref: _Reference, description: str, product_text: str
) -> tuple[FieldSuggestion | None, FieldSuggestion | None]:
    """(product, product line): a catalogue model named in the text ("XD-1001", certain); else a product's
    name or a line's name ("吸顶灯") found in it."""
    text = f"{product_text} {description}"
    for code in model_codes(text):
        product = ref.products.get(code)
        if product is not None:
            line = product.line
            return (
                FieldSuggestion(product.model, product.label, 1.0, [code], "text"),
                FieldSuggestion(line.code, line.name, 1.0, [code], "text") if line else None,
            )
    low = normalise(text)
    for name, product in ref.product_names:
        if name in low:
            line = product.line
            return (
                FieldSuggestion(product.model, product.label, 0.8, [product.name], "text"),
                FieldSuggestion(line.code, line.name, 0.8, [product.name], "text") if line else None,
            )
    for name, line in ref.lines:
        if name in low:
            return None, FieldSuggestion(line.code, line.name, 0.6, [line.name], "text")
    return None, None


# --- cold start ---------------------------------------------------------------------------------------------


def _rules_type(ref: _Reference, text: str) -> FieldSuggestion | None:
    low = normalise(text)
    best: tuple[int, str, list[str]] | None = None
    for code, words in TYPE_KEYWORDS.items():
        found = [w for w in words if w in low]
        if found and code in ref.types and (best is None or len(found) > best[0]):
            best = (len(found), code, found)
    if best is None:
        return None
    n, code, found = best
    return FieldSuggestion(code, ref.types[code].name, round(min(0.9, 0.4 + 0.15 * n), 2), found[:4], "rules")


def _rules_department(
    ref: _Reference, type_code: str | None, product_line: ProductLine | None, *, on: datetime.date
) -> FieldSuggestion | None:
    ctype = ref.types.get(type_code or "")
    if ctype is None:
        return None
    probe = Complaint(
        type=ctype, product=Product(line=product_line) if product_line else None, department=ctype.default_department
    )
    proposals = roster_propose(complaint=probe, on=on)
    if not proposals:
        return None
    department = proposals[0].department
    return FieldSuggestion(department.code, department.name, 0.5, [ctype.name], "rules")


def _rules_priority(text: str, hazards: list[str]) -> FieldSuggestion:
    if hazards:
        return FieldSuggestion(str(Priority.URGENT.value), _priority_label(Priority.URGENT), 0.9, hazards, "rules")
    low = normalise(text)
    angry = [w for w in URGENCY_WORDS if w in low]
    if angry:
        return FieldSuggestion(str(Priority.IMPORTANT.value), _priority_label(Priority.IMPORTANT), 0.6, angry, "rules")
    return FieldSuggestion(str(Priority.NORMAL.value), _priority_label(Priority.NORMAL), 0.5, [], "rules")


# --- the entry point ------------------------------------------------------------------------------------------


def triage_suggest(*, description: str, product_text: str = "", now: datetime.datetime | None = None) -> Suggestions:
    """What the registration form offers for this text. Reads only (cached reference data, the model
    loaded once per process)."""
    started = time.perf_counter()
    ref = reference()
    product, line = suggest_product(ref=ref, description=description, product_text=product_text)
    line_obj = None
    if product is not None:
        line_obj = ref.products[product.value.upper()].line
    elif line is not None:
        line_obj = next((obj for _name, obj in ref.lines if obj.code == line.value), None)
    hazard = hazard_assess(text=f"{description} {product_text}", line_id=line_obj.pk if line_obj else None)
    hazards = hazard.words if hazard else []
    text = learn.model_text(description, product_text)
    result = Suggestions(
        product=product, product_line=line, hazard_words=hazards, hazard_source=hazard.source if hazard else ""
    )
    version, learned = learn.current()
    if learned is not None and version is not None and learned.samples >= settings.TRIAGE_MIN_HISTORY:
        result.model_version = version
        guesses = learned.guess(text)
        if (g := guesses.get("type")) and g.value in ref.types:
            result.type = FieldSuggestion(g.value, ref.types[g.value].name, g.confidence, g.words, "model")
        if (g := guesses.get("department")) and g.value in ref.departments:
            result.department = FieldSuggestion(g.value, ref.departments[g.value].name, g.confidence, g.words, "model")
        if (g := guesses.get("priority")) and g.value.isdigit() and int(g.value) in Priority.values:
            result.priority = FieldSuggestion(g.value, _priority_label(int(g.value)), g.confidence, g.words, "model")
    if result.type is None:
        result.type = _rules_type(ref, text)
    if result.department is None:
        on = timezone.localdate(now or timezone.now())
        result.department = _rules_department(ref, result.type.value if result.type else None, line_obj, on=on)
    if hazard is not None:
        # A safety hazard is urgent whatever the history says: the hazard check outranks the priority model.
        result.priority = FieldSuggestion(
            str(Priority.URGENT.value), _priority_label(Priority.URGENT), 0.9, hazards, hazard.source
        )
    elif result.priority is None:
        result.priority = _rules_priority(text, hazards)
    result.seconds = time.perf_counter() - started
    return result


def forget() -> None:
    """Re-read the reference data on the next call (tests, after changing the catalogue)."""
    global _reference
    _reference = None

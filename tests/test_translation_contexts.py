"""One English word, two meanings, two translations: such a word always carries a context (pgettext).

Two checks (docs/decisions.md, "Words with two meanings"):
1. A list of English words known to mean different things on different screens ("closed" the state and
   "closed" the time, "by" the contact person and "by" in "approved by") never appears in the catalogue
   without a context.
2. By the code's structure: a word that labels a state (a `TextChoices` label) and also names a date/time
   field is a past participle in one place and a noun ("time of …") in the other, so it needs a context.
"""

from __future__ import annotations

import ast
from pathlib import Path

import polib
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "closeloop" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
GETTEXT = {"_", "gettext", "gettext_lazy"}
DATE_FIELDS = {"DateTimeField", "DateField"}

# Each means two things somewhere in CloseLoop; add a word here when you find another.
AMBIGUOUS = {"closed", "open", "Open", "by", "Complaints", "number"}

# notifications.Notification.sent_at ("sent") and .done_at ("done") belong to the notification work in
# progress elsewhere; remove these when those fields' labels get their context.
NOT_YET = {("closeloop/notifications/models.py", "sent"), ("closeloop/notifications/models.py", "done")}


def _plain_message(node: ast.AST) -> str | None:
    """The msgid of `_("…")`, `gettext_lazy("…")`; None for anything else (pgettext included)."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in GETTEXT
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _state_and_time_labels() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    states: dict[str, set[str]] = {}
    times: dict[str, set[str]] = {}
    for path in (ROOT / "closeloop").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        where = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "attr", getattr(base, "id", "")) == "TextChoices" for base in node.bases
            ):
                for statement in node.body:
                    if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                        message = _plain_message(statement.value.elts[-1])
                        if message:
                            states.setdefault(message, set()).add(where)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in DATE_FIELDS:
                labels = node.args[:1] + [k.value for k in node.keywords if k.arg == "verbose_name"]
                for label in labels:
                    message = _plain_message(label)
                    if message and (where, message) not in NOT_YET:
                        times.setdefault(message, set()).add(where)
    return states, times


def test_words_with_two_meanings_always_carry_a_context():
    po = polib.pofile(str(PO))
    plain = sorted(e.msgid for e in po if e.msgid in AMBIGUOUS and not e.msgctxt)
    assert plain == [], "use pgettext/pgettext_lazy or {% translate … context … %} for: " + ", ".join(plain)


def test_no_state_label_doubles_as_the_name_of_a_time_field():
    states, times = _state_and_time_labels()
    both = {word: sorted(states[word] | times[word]) for word in set(states) & set(times)}
    assert both == {}, "a state and a time share a msgid; give one of them a context"


def test_the_check_finds_a_shared_state_and_time_label(tmp_path, monkeypatch):
    """The structural check can fail: a state "closed" and a `closed` date field in one module."""
    package = tmp_path / "closeloop"
    package.mkdir()
    (package / "models.py").write_text(
        "from django.db import models\n"
        "from django.utils.translation import gettext_lazy as _\n"
        "class S(models.TextChoices):\n"
        "    CLOSED = 'closed', _('closed')\n"
        "met_at = models.DateTimeField(_('closed'))\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    states, times = _state_and_time_labels()
    assert set(states) & set(times) == {"closed"}


def test_each_meaning_reads_right_in_chinese():
    from closeloop.complaints.apps import ComplaintsConfig
    from closeloop.complaints.lifecycle import Status as ComplaintStatus
    from closeloop.defects.models import AlertStatus
    from closeloop.followup.lifecycle import FollowUpState
    from closeloop.handling.models import ContactLog
    from closeloop.sla.models import Deadline

    with translation.override("zh-hans"):
        assert str(ComplaintStatus.CLOSED.label) == "已关闭"
        assert str(Deadline._meta.get_field("met_at").verbose_name) == "完成时间"
        assert str(AlertStatus.OPEN.label) == "待处理"
        assert str(FollowUpState.OPEN.label) == "待回访"
        assert str(ContactLog._meta.get_field("by").verbose_name) == "沟通人"
        assert str(ComplaintsConfig.verbose_name) == "投诉"
        assert translation.pgettext("count", "Complaints") == "投诉数"
        assert translation.gettext("approved by %(name)s, %(at)s") % {"name": "王", "at": "x"} == "王 已批准，x"

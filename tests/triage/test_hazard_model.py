"""The learned hazard model, beside the lexicon: trained with the other fields from the closed history, it
catches a hazard described without any lexicon word but like the hazards it learned from — and only once
it learned from TRIAGE_MIN_HISTORY complaints. A denied hazard word still flags nothing. Intake reads with
it too (after its commit, in its process): such a hazard is flagged and told at registration, once."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from closeloop.complaints.models import Complaint, Event, Priority
from closeloop.mailin.conf import Mailbox
from closeloop.mailin.services import mail_ingest
from closeloop.notifications.models import Notification
from closeloop.triage import learn
from closeloop.triage.hazards import hazard_check
from closeloop.triage.models import HazardFlag, TriageModel
from closeloop.triage.services import triage_train
from closeloop.triage.suggest import triage_suggest
from closeloop.triage.synthetic import Sample, history
from closeloop.triage.tasks import hazard_catch_up_task
from closeloop.triage.text import DEFAULT_HAZARD_WORDS, hazard_words
from tests.api.conftest import intake_payload
from tests.mailin.samples import mail, message_id
from tests.portal.conftest import complaint_fields, form_token

pytestmark = pytest.mark.django_db

# Worded like the history's electric shocks ("漏电跳闸，手碰到有麻的感觉"), without a word of the lexicon.
SHOCK = "摸台灯的开关被电了一下，手碰到有麻的感觉"


@pytest.fixture
def trained(import_history: Callable[[list[Sample]], None], settings: Any) -> Any:
    settings.TRIAGE_MIN_HISTORY = 300
    import_history(history(800, seed=41))
    return triage_train()


def test_the_hazard_model_is_trained_with_the_others_and_scored(trained: Any) -> None:
    _version, learned = learn.current()
    assert learned is not None and learn.HAZARD in learned.classifiers
    # Held-out recall and precision at TRIAGE_HAZARD_MODEL_PERCENT, stored with the version.
    assert trained.scores["hazard_recall"] >= 0.8
    assert trained.scores["hazard_precision"] >= 0.8


def test_a_hazard_without_lexicon_words_is_caught_by_the_trained_model(
    trained: Any, make_complaint: Callable[..., Complaint], quality: User
) -> None:
    assert hazard_words(SHOCK, DEFAULT_HAZARD_WORDS) == []
    complaint = make_complaint(description=SHOCK, priority=Priority.NORMAL)  # its after-commit check not run
    assert not HazardFlag.objects.exists()  # as if the process died between the commit and the check

    flag = hazard_check(complaint_id=complaint.pk)  # the worker's catch-up: lexicon, then the model

    assert flag is not None and flag.source == "model"
    assert any("麻" in w or "电了" in w for w in flag.words), flag.words  # the words that drove it
    complaint.refresh_from_db()
    assert complaint.priority == Priority.URGENT
    assert Notification.objects.filter(kind="safety_hazard", recipient=quality, method="in_app").count() == 1
    offered = triage_suggest(description=SHOCK)
    assert (offered.hazard_source, offered.priority.value if offered.priority else None) == ("model", "1")


def test_a_denied_hazard_is_not_flagged_by_the_model_either(
    trained: Any, make_complaint: Callable[..., Complaint]
) -> None:
    calm = make_complaint(description="台灯不亮了，没有冒烟，也没有触电，开关按了没反应")
    assert hazard_check(complaint_id=calm.pk) is None
    assert triage_suggest(description="台灯不亮了，没有冒烟，也没有触电").hazard_source == ""


def test_below_the_history_threshold_the_model_flags_nothing(
    trained: Any, make_complaint: Callable[..., Complaint], settings: Any
) -> None:
    settings.TRIAGE_MIN_HISTORY = trained.samples + 1  # the model learned from fewer: rules and lexicon only
    learn.forget()
    complaint = make_complaint(description=SHOCK, priority=Priority.NORMAL)
    assert hazard_check(complaint_id=complaint.pk) is None
    assert triage_suggest(description=SHOCK).hazard_source == ""
    settings.TRIAGE_MIN_HISTORY = trained.samples
    learn.forget()
    assert hazard_check(complaint_id=complaint.pk) is not None


# --- at intake: the model's hazards within the minute, not at the next catch-up --------------------------


def _register(path: str, description: str, *, make_complaint: Callable[..., Complaint], api: Any) -> Complaint:
    """One complaint through one of the intake paths (each registers with `complaint_register`)."""
    if path == "desk":
        return make_complaint(description=description, priority=Priority.NORMAL)
    if path == "portal":
        client = Client()
        data = complaint_fields(description=description, product_model="", batch_no="", demand="")
        answer = client.post(reverse("portal:home"), {**data, "form_token": form_token(client)})
        assert answer.status_code in (200, 302), answer.content
        complaint = Complaint.objects.order_by("-pk").first()
        assert complaint is not None and complaint.description == description
        return complaint
    if path == "api":
        answer = api.post_json("/api/v1/complaints", intake_payload(phone="13900000077", description=description))
        assert answer.status_code == 201, answer.content
        return Complaint.objects.get(number=answer.json()["number"])
    result = mail_ingest(
        raw=mail(subject="台灯的问题", body=description, msgid=message_id()),
        mailbox=Mailbox(name="main", type_code="quality", priority=Priority.IMPORTANT),
    )
    assert result.complaint is not None, result
    return result.complaint


@pytest.mark.parametrize("path", ["desk", "portal", "api", "email"])
def test_a_hazard_only_the_model_sees_is_flagged_at_intake_and_told_once(
    trained: Any,
    path: str,
    settings: Any,
    make_complaint: Callable[..., Complaint],
    agent: User,
    api_as: Callable[[User], Any],
    quality: User,
    management: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert hazard_words(SHOCK, DEFAULT_HAZARD_WORDS) == []
    settings.PORTAL_FORM_MIN_SECONDS = 0
    with django_capture_on_commit_callbacks(execute=True):  # what follows the intake's commit, in its process
        complaint = _register(path, SHOCK, make_complaint=make_complaint, api=api_as(agent))

    flag = HazardFlag.objects.get()
    assert (flag.complaint_id, flag.source, flag.escalated) == (complaint.pk, "model", True)
    assert flag.flagged_at - complaint.registered_at < datetime.timedelta(minutes=1)
    complaint.refresh_from_db()
    assert complaint.priority == Priority.URGENT
    actions = list(Event.objects.filter(complaint=complaint).values_list("action", flat=True))
    assert (actions.count("hazard_flagged"), actions.count("priority_changed")) == (1, 1)
    told = Notification.objects.filter(kind="safety_hazard", method="in_app")
    assert sorted(told.values_list("recipient__username", flat=True)) == sorted([quality.username, management.username])

    hazard_catch_up_task.call_local()  # the worker's sweep afterwards: nobody is told twice
    assert HazardFlag.objects.count() == 1
    assert told.count() == 2
    assert Event.objects.filter(complaint=complaint, action="hazard_flagged").count() == 1


def test_a_denied_hazard_word_flags_nothing_at_intake_with_the_model_either(
    trained: Any, make_complaint: Callable[..., Complaint], quality: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        calm = make_complaint(description="台灯不亮了，没有冒烟，也没有触电，开关按了没反应", priority=Priority.NORMAL)
        smoke = make_complaint(description="台灯不亮了，后来冒烟了", priority=Priority.NORMAL)  # the control
    hazard_catch_up_task.call_local()

    assert list(HazardFlag.objects.values_list("complaint_id", flat=True)) == [smoke.pk]
    calm.refresh_from_db()
    assert calm.priority == Priority.NORMAL
    assert not Notification.objects.filter(kind="safety_hazard", complaint=calm).exists()
    assert not Event.objects.filter(complaint=calm, action="hazard_flagged").exists()


def test_each_process_keeps_its_model_and_takes_a_newer_version_within_seconds(trained: Any) -> None:
    version, learned = learn.current(now=1_000.0)
    assert version == trained.version and learned is not None
    assert learn.current(now=1_001.0)[1] is learned  # cached: the same object, no reload
    TriageModel.objects.create(
        version=trained.version + 1, samples=trained.samples, seconds=0.0, scores={}, blob=trained.blob
    )  # trained by the worker, another process
    assert learn.current(now=1_000.0 + learn.CHECK_SECONDS / 2)[0] == trained.version
    newer, reloaded = learn.current(now=1_000.0 + learn.CHECK_SECONDS)
    assert newer == trained.version + 1 and reloaded is not learned


def test_the_fast_row_is_the_vectorizers_row(trained: Any) -> None:
    """Intake reads every complaint with `Learned.row` instead of scikit-learn's `transform`: the same row."""
    _version, learned = learn.current()
    assert learned is not None
    texts = [s.description for s in history(50, seed=43)] + [SHOCK, "", "ＸＤ－１００１ 冒烟", "qqq"]
    matrix = learned.vectorizer.transform(texts).toarray()
    for text, expected in zip(texts, matrix, strict=True):
        row = learned.row(text)
        dense = np.zeros(matrix.shape[1])
        dense[row.indices] = row.data
        assert np.allclose(dense, expected, atol=1e-6), text
    assert learned.row("").indices.size == 0


def test_the_catch_up_reads_with_the_model_in_batches_what_a_dead_process_left(
    trained: Any, make_complaint: Callable[..., Complaint], quality: User, monkeypatch: Any
) -> None:
    from closeloop.triage import hazards

    monkeypatch.setattr(hazards, "CATCH_UP_BATCH", 2)  # several batches and a last partial one
    # Their after-commit checks not run: as if the web process died right after the commits.
    shock = make_complaint(description=SHOCK, priority=Priority.NORMAL)
    calm = [make_complaint(description=d) for d in ("台灯不亮了，没有冒烟", "灯罩有裂纹", "物流太慢了", "开关松动")]
    smoke = make_complaint(description="吸顶灯冒烟了")

    hazard_catch_up_task.call_local()
    hazard_catch_up_task.call_local()

    flags = dict(HazardFlag.objects.values_list("complaint_id", "source"))
    assert flags == {shock.pk: "model", smoke.pk: "lexicon"}
    assert not {c.pk for c in calm} & set(flags)
    assert Notification.objects.filter(kind="safety_hazard", method="in_app", recipient=quality).count() == 2

"""IMAP polling against a real dovecot started by the suite: several mailboxes with their own defaults,
over imaps (the certificate verified against the company CA) and STARTTLS; a message is marked seen or
moved only once the transaction that took it has committed."""

from __future__ import annotations

import imaplib
from collections.abc import Callable
from typing import Any

import pytest

from closeloop.complaints.models import Complaint, Priority
from closeloop.env import ImproperEnvironment, env_raw
from closeloop.mailin.conf import Mailbox, mailboxes_from_env
from closeloop.mailin.imap import imap_folder_name, mailboxes_poll
from closeloop.mailin.models import InboundMail
from tests.mailin.dovecot import Dovecot
from tests.mailin.samples import mail
from tests.notifications.gateways.conftest import Pki

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def account(dovecot: Dovecot, request: pytest.FixtureRequest) -> Callable[[str], str]:
    """A fresh IMAP account per test (its name from the test), returning the user name."""
    counter = iter(range(100))

    def make(label: str) -> str:
        user = f"{request.node.name[-20:]}-{label}-{next(counter)}".replace("[", "").replace("]", "")
        dovecot.add_user(user, "secret")
        return user

    return make


def deliver(dovecot: Dovecot, user: str, *messages: bytes, folder: str = "INBOX") -> None:
    connection = imaplib.IMAP4("127.0.0.1", dovecot.imap_port)
    connection.login(user, "secret")
    for raw in messages:
        status, _ = connection.append(folder, None, None, raw)
        assert status == "OK"
    connection.logout()


def folder_state(dovecot: Dovecot, user: str, folder: str = "INBOX") -> dict[str, int]:
    connection = imaplib.IMAP4("127.0.0.1", dovecot.imap_port)
    connection.login(user, "secret")
    status, _ = connection.select(imap_folder_name(folder), readonly=True)
    if status != "OK":
        return {"all": 0, "unseen": 0}
    counts = {key: len(connection.uid("SEARCH", key)[1][0].split()) for key in ("ALL", "UNSEEN")}
    connection.logout()
    return {"all": counts["ALL"], "unseen": counts["UNSEEN"]}


def use_mailboxes(settings: Any, monkeypatch: pytest.MonkeyPatch, *urls: str) -> list[Mailbox]:
    """MAIL_INTAKE_URL as an operator sets it, read as closeloop/settings.py reads it."""
    monkeypatch.setenv("MAIL_INTAKE_URL", "\n".join(urls))
    settings.MAIL_INTAKE_MAILBOXES = mailboxes_from_env(
        env_raw("MAIL_INTAKE_URL"), name="MAIL_INTAKE_URL", default_type="other"
    )
    return settings.MAIL_INTAKE_MAILBOXES


def test_two_mailboxes_over_imaps_each_with_its_defaults(
    dovecot: Dovecot, account: Callable[[str], str], pki: Pki, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.EXTRA_CA_CERTS = str(pki.ca_file)
    main, dealers = account("main"), account("dealers")
    use_mailboxes(
        settings,
        monkeypatch,
        f"imaps://{main}:secret@127.0.0.1:{dovecot.imaps_port}/INBOX?name=main&type=quality&priority=important",
        f"imaps://{dealers}:secret@localhost:{dovecot.imaps_port}/INBOX?name=dealers&type=delivery&department=sales",
    )
    deliver(dovecot, main, mail(subject="灯罩开裂"), mail(subject="灯不亮", charset="gbk"))
    deliver(dovecot, dealers, mail(subject="到货延迟", sender="dealer@dealer.example.cn"))

    assert mailboxes_poll() == {"main": {"taken": 2, "retry": 0}, "dealers": {"taken": 1, "retry": 0}}

    by_subject = {c.description.split("\n")[0]: c for c in Complaint.objects.select_related("type", "department")}
    assert set(by_subject) == {"灯罩开裂", "灯不亮", "到货延迟"}
    assert (by_subject["灯罩开裂"].type.code, by_subject["灯罩开裂"].priority) == ("quality", Priority.IMPORTANT)
    delivery = by_subject["到货延迟"]
    assert (delivery.type.code, delivery.department.code, delivery.priority) == ("delivery", "sales", Priority.NORMAL)
    assert folder_state(dovecot, main) == {"all": 2, "unseen": 0}
    assert folder_state(dovecot, dealers) == {"all": 1, "unseen": 0}
    # The next poll finds nothing new.
    assert mailboxes_poll() == {"main": {"taken": 0, "retry": 0}, "dealers": {"taken": 0, "retry": 0}}
    assert Complaint.objects.count() == 3


def test_starttls_and_moving_taken_messages(
    dovecot: Dovecot, account: Callable[[str], str], pki: Pki, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.EXTRA_CA_CERTS = str(pki.ca_file)
    user = account("move")
    use_mailboxes(
        settings,
        monkeypatch,
        f"imap+starttls://{user}:secret@localhost:{dovecot.imap_port}/INBOX?name=m&move=%E5%B7%B2%E5%A4%84%E7%90%86",
    )
    deliver(dovecot, user, mail())
    assert mailboxes_poll() == {"m": {"taken": 1, "retry": 0}}
    assert folder_state(dovecot, user) == {"all": 0, "unseen": 0}
    assert folder_state(dovecot, user, "已处理")["all"] == 1


def test_a_message_not_taken_stays_unseen_for_the_next_poll(
    dovecot: Dovecot, account: Callable[[str], str], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = account("retry")
    # A mailbox whose type does not exist: nothing can be registered until an administrator fixes it.
    use_mailboxes(settings, monkeypatch, f"imap://{user}:secret@127.0.0.1:{dovecot.imap_port}/INBOX?name=r&type=nope")
    deliver(dovecot, user, mail(subject="稍后再试"))
    assert mailboxes_poll() == {"r": {"taken": 0, "retry": 1}}
    assert folder_state(dovecot, user) == {"all": 1, "unseen": 1}
    assert not Complaint.objects.exists() and not InboundMail.objects.exists()

    use_mailboxes(
        settings, monkeypatch, f"imap://{user}:secret@127.0.0.1:{dovecot.imap_port}/INBOX?name=r&type=service"
    )
    assert mailboxes_poll() == {"r": {"taken": 1, "retry": 0}}
    assert folder_state(dovecot, user) == {"all": 1, "unseen": 0}
    assert Complaint.objects.get().type.code == "service"


def test_an_unverifiable_certificate_is_refused_and_nothing_is_read(
    dovecot: Dovecot, account: Callable[[str], str], settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    settings.EXTRA_CA_CERTS = None  # the company CA is not trusted
    user = account("tls")
    use_mailboxes(settings, monkeypatch, f"imaps://{user}:secret@127.0.0.1:{dovecot.imaps_port}/INBOX?name=t")
    deliver(dovecot, user, mail())
    assert mailboxes_poll() == {"t": {"error": 1}}
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text and "secret" not in caplog.text
    assert folder_state(dovecot, user) == {"all": 1, "unseen": 1}


def test_mail_intake_url_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in (
        "pop3://u:p@host/INBOX",
        "imaps://host/INBOX",
        "imaps://u:p@host/INBOX?priority=high",
        "imaps://u:p@host/INBOX?colour=red",
    ):
        monkeypatch.setenv("MAIL_INTAKE_URL", bad)
        with pytest.raises(ImproperEnvironment) as error:
            mailboxes_from_env(env_raw("MAIL_INTAKE_URL"), name="MAIL_INTAKE_URL", default_type="other")
        assert ":p@" not in str(error.value)
    monkeypatch.setenv("MAIL_INTAKE_URL", "imaps://a:x@h/INBOX?name=n imaps://b:y@h/INBOX?name=n")
    with pytest.raises(ImproperEnvironment):
        mailboxes_from_env(env_raw("MAIL_INTAKE_URL"), name="MAIL_INTAKE_URL", default_type="other")
    monkeypatch.setenv("MAIL_INTAKE_URL", "imaps://complaints%40factory.cn:p%2Fw@mail.factory.cn/%E6%8A%95%E8%AF%89")
    (box,) = mailboxes_from_env(env_raw("MAIL_INTAKE_URL"), name="MAIL_INTAKE_URL", default_type="other")
    assert (box.user, box.password, box.folder, box.port, box.type_code) == (
        "complaints@factory.cn",
        "p/w",
        "投诉",
        993,
        "other",
    )
    assert "p/w" not in repr(box)


def test_folder_names_in_modified_utf7() -> None:
    assert imap_folder_name("INBOX") == '"INBOX"'
    assert imap_folder_name("投诉") == '"&YpWLyQ-"'
    assert imap_folder_name("A&B 已处理") == '"A&-B &XfJZBHQG-"'


def test_a_mailbox_that_refuses_the_login_does_not_stop_the_others(
    dovecot: Dovecot, account: Callable[[str], str], settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    good = account("good")
    dovecot.add_user("complaints@factory.example.cn", "secret")
    port = dovecot.imap_port
    use_mailboxes(
        settings,
        monkeypatch,
        f"imap://complaints%40factory.example.cn:wrong@127.0.0.1:{port}/INBOX?name=bad",
        f"imap://{good}:secret@127.0.0.1:{port}/INBOX?name=good",
    )
    deliver(dovecot, good, mail())
    assert mailboxes_poll() == {"bad": {"error": 1}, "good": {"taken": 1, "retry": 0}}
    assert "mailbox bad cannot be polled" in caplog.text and "wrong" not in caplog.text

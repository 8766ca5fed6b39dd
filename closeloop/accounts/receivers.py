"""Signal receivers: the hooks through which Django's own code paths (its login, logout, the admin's
user form, the password-reset view, `changepassword`) reach our services. They only delegate.

A password change or a deactivation is caught at the user's save, the one place every path passes:
the row's password and is_active are read just before the save and compared just after."""

from __future__ import annotations

import datetime
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from closeloop.accounts import services
from closeloop.accounts.current import current_session
from closeloop.accounts.events import log, security_event_record
from closeloop.accounts.models import SecurityEvent, SecurityEventKind, SessionEnd
from closeloop.core.types import User

_BEFORE = "_accounts_credentials_before_save"


@receiver(user_logged_in, dispatch_uid="accounts_session_record_login")
def _logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        services.session_record_login(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="accounts_session_logged_out")
def _logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if request is not None and request.session.session_key:
        services.session_closed(session_key=request.session.session_key, reason=SessionEnd.LOGOUT)


@receiver(pre_save, sender=User, dispatch_uid="accounts_credentials_before")
def _credentials_before(sender: type[User], instance: User, update_fields: Any, **kwargs: Any) -> None:
    if instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. the last_login written at every login
    before = sender._default_manager.filter(pk=instance.pk).values_list("password", "is_active").first()
    setattr(instance, _BEFORE, before)


@receiver(post_save, sender=User, dispatch_uid="accounts_credentials_after")
def _credentials_after(sender: type[User], instance: User, created: bool, **kwargs: Any) -> None:
    before = instance.__dict__.pop(_BEFORE, None)
    if created or before is None:
        return
    old_password, was_active = before
    # Django's own test for "the password was set" (it calls the validators' password_changed() on
    # it): a login that re-hashes the same password with a newer hasher saves a new hash without it.
    # A first password (an account created empty, then given one) changes nothing that exists.
    was_set = instance._password is not None or (  # type: ignore[attr-defined]  # Django's, not in django-stubs
        is_password_usable(old_password) and not instance.has_usable_password()
    )
    password_changed = bool(old_password) and old_password != instance.password and was_set
    deactivated = was_active and not instance.is_active
    if not (password_changed or deactivated):
        return
    current = current_session.get()
    own = current is not None and current.user_id == instance.pk
    services.account_credentials_changed(
        user=instance,
        password_changed=password_changed,
        deactivated=deactivated,
        actor=current.user if current is not None else None,
        keep_session_key=current.session_key if own else None,  # type: ignore[union-attr]  # own: current is set
    )


@receiver(user_locked_out, dispatch_uid="accounts_locked_out")
def _locked_out(sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any) -> None:
    """axes says so at the failure that reaches the limit and at every failure during the lockout;
    an account gets one event per lockout, an unknown name or a bare address only a log line."""
    user = User._default_manager.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).first() if username else None
    if user is None:
        log.warning("security event locked_out user=- (no such account, or the address)")
        return
    window_start = timezone.now() - datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    if not SecurityEvent.objects.filter(user=user, kind=SecurityEventKind.LOCKED_OUT, at__gte=window_start).exists():
        security_event_record(kind=SecurityEventKind.LOCKED_OUT, user=user)


def _token_cache_clear(**kwargs: Any) -> None:
    """A token, a user, their groups or permissions changed: the API's cached keys are read again
    (accounts/api_auth.py)."""
    from closeloop.accounts.api_auth import api_token_cache_clear

    api_token_cache_clear()


def _connect_token_cache_clearing() -> None:
    from django.contrib.auth.models import Group

    from closeloop.core.models import ApiToken

    user_model = get_user_model()
    for model in (ApiToken, user_model, Group):
        post_save.connect(_token_cache_clear, sender=model, dispatch_uid=f"api_token_cache_{model.__name__}_save")
        post_delete.connect(_token_cache_clear, sender=model, dispatch_uid=f"api_token_cache_{model.__name__}_del")
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_token_cache_clear, sender=through, dispatch_uid=f"api_token_cache_{through.__name__}")


_connect_token_cache_clearing()

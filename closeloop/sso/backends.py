"""What the LDAP and OpenID Connect backends share."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from closeloop.core.types import User
from closeloop.sso.mapping import GroupMapping
from closeloop.sso.services import DirectoryAccount, SignInRefused, directory_user_sign_in

logger = logging.getLogger("closeloop.sso")


class SignInOnlyBackend(BaseBackend):
    """Signs people in and loads them from the session. Grants no permissions: those come from the
    password backend (ModelBackendOneQuery), which stays in AUTHENTICATION_BACKENDS."""

    def get_user(self, user_id: Any) -> User | None:
        user = get_user_model()._default_manager.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None

    # Also in front of mozilla-django-oidc's ModelBackend, whose permission methods these replace.
    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()


def sign_in(request: HttpRequest | None, account: DirectoryAccount, mapping: GroupMapping) -> User | None:
    """The user for a proven directory account, or None with the reason shown on the next page."""
    try:
        return directory_user_sign_in(account=account, mapping=mapping)
    except SignInRefused as refusal:
        logger.warning("%s sign-in of %r refused: %s", account.source, account.username, refusal.code)
        if request is not None:
            messages.error(request, refusal.message, fail_silently=True)
        return None

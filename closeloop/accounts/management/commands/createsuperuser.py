"""Django's `createsuperuser`, with the password policy also for `--noinput` (Django checks a typed
password, but takes DJANGO_SUPERUSER_PASSWORD unchecked)."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.management.commands import createsuperuser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from closeloop.core.types import User


class Command(createsuperuser.Command):
    UserModel: type[User]  # Django's User (AUTH_USER_MODEL is not changed)

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options["interactive"] and password:
            field = self.UserModel.USERNAME_FIELD
            # Django's command reads DJANGO_SUPERUSER_<USERNAME_FIELD>; ours is the default User's.
            username = options.get(field) or os.environ.get("DJANGO_SUPERUSER_USERNAME") or ""
            try:
                validate_password(password, self.UserModel(**{field: username}))
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        super().handle(*args, **options)

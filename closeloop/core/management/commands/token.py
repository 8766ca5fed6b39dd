"""`closeloop token create --user USERNAME --name NAME [--expires-days N] [--scope S …]` and
`closeloop token revoke PREFIX`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from closeloop.core.errors import DomainError
from closeloop.core.models import Scope
from closeloop.core.services import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Create or revoke API tokens for integrating systems."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token; its key is printed once and never stored.")
        create.add_argument("--user", required=True, help="username the integration acts as")
        create.add_argument("--name", required=True, help="what uses the token, e.g. 'shop' or 'crm'")
        create.add_argument(
            "--expires-days", type=int, default=None, metavar="N", help="the key stops working N days from now"
        )
        create.add_argument(
            "--scope",
            action="append",
            choices=Scope.values,
            default=None,
            help="what the token may be used for; repeat for several (default: all, within the user's roles)",
        )
        revoke = sub.add_parser("revoke", help="Revoke the token whose key starts with PREFIX.")
        revoke.add_argument("prefix", metavar="PREFIX")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                self._create(
                    username=options["user"],
                    name=options["name"],
                    expires_days=options["expires_days"],
                    scopes=options["scope"],
                )
            else:
                token = api_token_revoke(prefix=options["prefix"])
                self.stdout.write(f"Revoked {token.name} ({token.prefix}…) of {token.user}.")
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc

    def _create(self, *, username: str, name: str, expires_days: int | None, scopes: list[str] | None) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        token, raw_key = api_token_create(user=user, name=name, expires_days=expires_days, scopes=scopes)
        expiry = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
        self.stderr.write(
            f"Token {token.name!r} for {username} (prefix {token.prefix}{expiry}, scopes {','.join(token.scopes)})."
            " Keep the key now; it is not stored:"
        )
        self.stdout.write(raw_key)

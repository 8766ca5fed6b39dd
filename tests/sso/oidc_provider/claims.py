"""What the test provider says about its users: profile claims, a `groups` scope, and `amr` in the ID token."""

from __future__ import annotations

from typing import Any

from oidc_provider.lib.claims import ScopeClaims

# Users in this group sign in "with a second factor": their ID token carries amr=["pwd", "otp", "mfa"].
MFA_GROUP = "used-mfa"


def userinfo(claims: dict[str, Any], user: Any) -> dict[str, Any]:
    claims["preferred_username"] = user.username
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    claims["name"] = f"{user.first_name} {user.last_name}".strip()
    claims["email"] = user.email
    claims["email_verified"] = True
    return claims


class GroupsScopeClaims(ScopeClaims):
    info_groups = ("Groups", "The groups you are in.")

    def scope_groups(self) -> dict[str, Any]:
        return {"groups": sorted(self.user.groups.exclude(name=MFA_GROUP).values_list("name", flat=True))}


def id_token_hook(id_token: dict[str, Any], user: Any, **kwargs: Any) -> dict[str, Any]:
    id_token["amr"] = ["pwd", "otp", "mfa"] if user.groups.filter(name=MFA_GROUP).exists() else ["pwd"]
    return id_token

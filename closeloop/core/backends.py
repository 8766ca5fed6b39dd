"""The authentication backend: Django's ModelBackend, with a user's permissions read in one query and the
session's user by a statement built once.

ModelBackend reads a user's own and their groups' (roles') permissions in two ORM queries on the first
`has_perm` of a request; every API call and page asks at least once, so this is one round trip fewer
(and no query building) on each of them. Same answers, same per-request cache (`_perm_cache`)."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from closeloop.core.prepared import Param, Prepared
from closeloop.core.types import User

# The user of a session, asked on every request of the desk: built once (core/prepared.py).
_USER = Prepared(lambda: get_user_model()._default_manager.filter(pk=Param("pk"))[:1])


@cache
def _permissions_sql(user_model: type[User]) -> tuple[str, str]:
    """(all permissions, a user's own and their groups' permissions) as SQL over the real table names."""
    qn = connection.ops.quote_name
    permission, content_type = qn(Permission._meta.db_table), qn(ContentType._meta.db_table)
    own = user_model.user_permissions.through._meta.db_table
    groups = user_model.groups.through._meta.db_table
    of_group = Group.permissions.through._meta.db_table
    # Table names from the models' metadata, quoted; the user's id is a parameter.
    select = f"SELECT ct.app_label, p.codename FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id"  # noqa: S608
    own_ids = f"SELECT permission_id FROM {qn(own)} WHERE user_id = %s"  # noqa: S608
    role_ids = f"SELECT gp.permission_id FROM {qn(of_group)} gp JOIN {qn(groups)} ug ON ug.group_id = gp.group_id WHERE ug.user_id = %s"  # noqa: S608, E501
    mine = " ".join([select, "WHERE p.id IN (", own_ids, ") OR p.id IN (", role_ids, ")"])
    return select, mine


class ModelBackendOneQuery(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user = _USER.first(pk=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            every, mine = _permissions_sql(user_obj.__class__)
            with connection.cursor() as cursor:
                if user_obj.is_superuser:
                    cursor.execute(every)
                else:
                    cursor.execute(mine, [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}
        return user_obj._perm_cache

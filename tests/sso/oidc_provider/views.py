"""A test-only control endpoint: create or change a user of the provider and their groups."""

from __future__ import annotations

import json

from django.contrib.auth.models import Group, User
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def put_user(request: HttpRequest) -> JsonResponse:
    data = json.loads(request.body)
    user, _created = User.objects.get_or_create(username=data["username"])
    user.first_name = data.get("first_name", "")
    user.last_name = data.get("last_name", "")
    user.email = data.get("email", "")
    user.set_password(data["password"])
    user.save()
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in data.get("groups", [])])
    return JsonResponse({"id": user.pk})

"""`closeloop demo`: demo users for every role, the catalogue, an integration token and 300
complaints with their whole history (tasks, contacts, solutions, feedback forms, follow-ups, reopens,
deadlines met and missed, events) spread over the last four full months and the current one, plus a
few complaints handled through the real services. Idempotent: a second run changes nothing."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from closeloop.complaints.models import Complaint
from closeloop.core.links import absolute_url
from closeloop.core.models import ApiToken
from closeloop.core.roles import Role, sync_role_groups
from closeloop.core.services import api_token_create
from closeloop.demo.generator import catalogue_ensure, days_covering_months, seed_complaints
from closeloop.demo.handling import demo_handling_ensure
from closeloop.demo.logins import (
    DEMO_COMPLAINTS,
    DEMO_MEMBERSHIPS,
    DEMO_PASSWORD,
    DEMO_USERS,
    INTEGRATION_ROLE,
    INTEGRATION_USERNAME,
    demo_login_lines,
)
from closeloop.directory.models import Department, Membership


class Command(BaseCommand):
    help = "Create the demo users, catalogue, integration token and demo complaints (only what is missing)."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        sync_role_groups()
        with transaction.atomic():
            created_users = []
            for username, role, _description in DEMO_USERS:
                user, created = user_model.objects.get_or_create(username=username)
                if created:
                    # Existing users keep their password: someone may have changed it on purpose.
                    user.set_password(DEMO_PASSWORD)
                    if role == Role.ADMIN:
                        user.is_staff = user.is_superuser = True
                    user.save()
                    created_users.append(username)
                user.groups.add(Group.objects.get(name=role))
                for code, is_manager in DEMO_MEMBERSHIPS.get(username, []):
                    department = Department.objects.filter(code=code).first()
                    if department is not None:
                        Membership.objects.get_or_create(
                            user=user, department=department, defaults={"is_manager": is_manager}
                        )
            integration, created = user_model.objects.get_or_create(username=INTEGRATION_USERNAME)
            if created:
                integration.set_unusable_password()  # reaches us only with its token
                integration.save()
            integration.groups.add(Group.objects.get(name=INTEGRATION_ROLE))
            raw_key = None
            if not ApiToken.objects.filter(user=integration, revoked_at__isnull=True).exists():
                _token, raw_key = api_token_create(user=integration, name="demo integration")
            catalogue_ensure()
        seeded = None
        now = timezone.now()
        if not Complaint.objects.exists():
            seeded = seed_complaints(count=DEMO_COMPLAINTS, seed=2026, days=days_covering_months(now), now=now)
        # A few more, handled through the real services (with their notifications), on a fresh demo only.
        dispatched = demo_handling_ensure(fresh=seeded is not None)
        # The management loop: a defect spike (three intakes about one model and batch, through the
        # intake service) and a few improvement actions.
        from closeloop.defects.demo import demo_defects
        from closeloop.improvement.demo import demo_improvement_actions
        from closeloop.mailin.demo import demo_mail_threads

        if seeded is not None:  # like the handled examples: on a fresh demo only
            demo_defects()
            from closeloop.triage.demo import demo_hazard

            demo_hazard()  # a smoking ceiling light: made urgent, quality and management told
            mails = demo_mail_threads()
            if mails:
                self.stdout.write(f"Took {mails} demo e-mails: two complaints, one with a threaded reply.")
            from closeloop.demo.callcentre import demo_hotline_call

            demo_hotline_call()  # a hotline call with its recording (link and file)
            from closeloop.serviceorders.demo import demo_service_orders

            demo_service_orders()  # a service order of every kind, at different steps
        demo_improvement_actions()
        from closeloop.knowledge.demo import demo_articles

        demo_articles()  # the knowledge base's known issues of the demo catalogue

        history = model = None
        if seeded is not None:
            # The year before the demo's months, brought in as an installation imports its past, then the
            # first triage model learned from it: agents see learned suggestions, not only the rules.
            from closeloop.demo.triage_history import demo_history, demo_model

            history = demo_history(before=now - datetime.timedelta(days=days_covering_months(now)))
            model = demo_model()

        if dispatched:
            self.stdout.write(f"Dispatched {dispatched} demo complaints to departments (tasks, a solution, a form).")
        if history:
            self.stdout.write(f"Imported {history} closed complaints of the previous year as history.")
        if model is not None:
            self.stdout.write(
                f"Trained triage model v{model.version} on {model.samples} closed complaints: held-out {model.scores}."
            )
        if created_users:
            self.stdout.write(f"Created demo users: {', '.join(created_users)}.")
        if seeded is not None:
            self.stdout.write(
                f"Added {seeded.complaints} demo complaints ({seeded.numbers[0]} … {seeded.numbers[-1]}) with "
                f"{seeded.tasks} department tasks, {seeded.followups} follow-ups and {seeded.events} events."
            )
        self.stdout.write(f"\nDemo logins (password: {DEMO_PASSWORD})")
        for line in demo_login_lines():
            self.stdout.write(f"  {line}")
        if raw_key is not None:
            self.stdout.write(
                f"\nAPI token for '{INTEGRATION_USERNAME}' (shown once, not stored): {raw_key}\n"
                f"  curl -H 'Authorization: Bearer {raw_key}' {absolute_url('/api/v1/complaints')}"
            )

"""Every status field of CloseLoop is driven by a declarative table: a `Lifecycle`.

A lifecycle names its model and status field, its states (a TextChoices) and its transitions. A row
(`Transition`) says who may act, from which states, to which state, what is required, which guards
apply, which service performs it, which clocks it meets, what the customer is told and what follows.

Services ask one checker: `lifecycle.check(obj, action, actor)` refuses (with the project's domain
errors) a wrong role, a wrong state or a failed guard, and `lifecycle.move(...)` checks and sets the
status field — the only place a status is written (tests/test_lifecycles.py reads the code for other
writes). The tables live next to their models (`<package>/lifecycle.py`) and register themselves;
`closeloop lifecycle` prints them all, docs/architecture.md holds a copy (tests/test_docs.py) and
`GET /api/v1/lifecycle?name=…` publishes each one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.apps import apps
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules, import_string
from django.utils.translation import gettext_lazy as _

from closeloop.core.errors import DomainError, PermissionDeniedError, TransitionNotAllowed
from closeloop.core.roles import Role, user_roles

# A guard returns None when the transition may go ahead, or why not: a message (the lifecycle turns it
# into a DomainError on its `guard_field`) or a DomainError of its own (raised as it is).
Guard = Callable[[Any, dict[str, object]], "str | Promise | DomainError | None"]
# An object-level condition on the actor ("the handler of this task"), besides the roles.
Allowed = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Transition:
    action: str
    label: Promise
    sources: frozenset[Any]
    target: Any
    # Who may act: a user holding one of these roles (empty: any user) — one of closeloop/authz's groups…
    roles: frozenset[Role] = frozenset()
    # …holding this permission of closeloop/authz (`<app>.<verb>_<object>`) on the object, asked through
    # the lifecycle's `authorize` (core imports nothing above it)…
    permission: str = ""
    # …for whom this holds as well, `(actor, obj) -> bool` (e.g. "owner of this action"; the actor may be
    # None when a job acts, and the predicate says whether it may), or its dotted path. All that is given
    # must hold; with none of the three the transition is the system's (a job, a sweep): no actor is checked.
    allowed: Allowed | str | None = None
    # Said when the actor may not act (or `(actor, obj) -> message`); default: "Your role may not “<label>”."
    denied: str | Promise | Callable[[Any, Any], str | Promise] = ""
    required: tuple[str, ...] = ()
    # Conditions on the object's records: a Guard, or the dotted path of one in a higher package.
    guards: tuple[Guard | str, ...] = field(default=())
    # When set, only this service (its dotted path) performs the transition (for the complaint: it needs
    # more than the generic form, and the generic action endpoint refuses it).
    service: str = ""
    # SLA milestones this transition meets, or cancels every open clock (the object needs none).
    meets: tuple[str, ...] = ()
    cancels_deadlines: bool = False
    # Shown on the button and used as CSS hint; "danger" asks for confirmation in the UI.
    style: str = "primary"
    # A panel of the page draws this action's button next to what it needs (the closing checklist draws
    # "close"): the generic list of actions leaves it out, so that no action is offered twice.
    own_form: bool = False
    # The confirmation once it is done: what happened and what comes next (default "<label>: done.").
    done: str | Promise = ""
    # When set, the customer is told (complaints.customer_messages.customer_notify with this message code).
    notify_customer: str = ""
    # What else happens in the same transaction once the state changed: dotted paths of callables
    # `(*, complaint, actor, via, now) -> None`, e.g. creating the follow-up when a complaint is resolved.
    then: tuple[str, ...] = ()

    def guard_callables(self) -> list[Guard]:
        """The guards, those named by dotted path imported on first use."""
        return [cast(Guard, named_callable(g)) if isinstance(g, str) else g for g in self.guards]

    @property
    def system(self) -> bool:
        return not self.roles and not self.permission and self.allowed is None

    def allowed_name(self) -> str:
        """The permission (`handling.work_task`) and the predicate's name (`is_owner_side`), or ""."""
        if self.permission:
            return " & ".join(filter(None, [self.permission, self._predicate_name()]))
        return self._predicate_name()

    def _predicate_name(self) -> str:
        if isinstance(self.allowed, str):
            return self.allowed.rsplit(".", 1)[-1]
        return self.allowed.__name__ if self.allowed is not None else ""

    def who(self) -> str:
        """Who may act, as the Markdown table says it."""
        if self.system:
            return "system"
        names = sorted(r.value for r in self.roles)
        if self.permission:
            names.append(f"`{self.permission}`")
        if self.allowed is not None:
            names.append(f"`{self._predicate_name()}`")
        return ", ".join(names)


@functools.cache
def named_callable(path: str) -> Callable[..., object]:
    """The function a row names by dotted path (a guard, a `then`, a `service`)."""
    found = import_string(path)
    if not callable(found):
        raise TypeError(f"{path} is not callable")
    return found


def _state_label(states: type[models.TextChoices], value: object) -> str:
    return str(states(str(value)).label) if value in states.values else str(value)


def _shown(state: object) -> str:
    # A blank status (a follow-up round without an outcome yet) is a state too.
    return str(state) or "(blank)"


@dataclass(frozen=True)
class Lifecycle:
    # Short, unique: `closeloop lifecycle`'s heading and `GET /api/v1/lifecycle?name=…`.
    name: str
    title: Promise
    # "app_label.ModelName" and the status field the table drives.
    model: str
    states: type[models.TextChoices]
    transitions: tuple[Transition, ...]
    status_field: str = "status"
    # States counted as "open" by the API (default: those a transition leaves).
    open_states: frozenset[Any] | None = None
    # What `performed by` says for rows without a service (the complaint's generic endpoint).
    default_service: str = ""
    # The refusal for a wrong state: `(obj, transition) -> DomainError`; default: TransitionNotAllowed
    # "“<label>” is not possible while the <model> is <state>."
    wrong_state: Callable[[Any, Transition], DomainError] | None = None
    # The field a guard's message is attached to, per transition; default: its last required field or "action".
    guard_field: Callable[[Transition], str | None] | None = None
    # Asks a row's `permission`: `(actor, permission, obj) -> bool`, i.e. `closeloop.authz.allowed`.
    authorize: Callable[[Any, str, Any], bool] | None = None

    def __post_init__(self) -> None:
        actions = [t.action for t in self.transitions]
        if len(actions) != len(set(actions)):
            raise ValueError(f"{self.name}: an action appears twice")
        if self.authorize is None and any(t.permission for t in self.transitions):
            raise ValueError(f"{self.name}: a row names a permission and the lifecycle has no `authorize`")

    # --- reading ------------------------------------------------------------------------------------------

    @functools.cached_property
    def by_action(self) -> dict[str, Transition]:
        return {t.action: t for t in self.transitions}

    def get(self, action: str) -> Transition:
        try:
            return self.by_action[action]
        except KeyError:
            raise TransitionNotAllowed(
                _("Unknown action “%(action)s”.") % {"action": action}, reason="unknown_action"
            ) from None

    def transitions_from(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def terminal_states(self) -> frozenset[Any]:
        leaving = {s for t in self.transitions for s in t.sources}
        return frozenset(s for s in self.states if s not in leaving)

    def is_open(self, state: Any) -> bool:
        if self.open_states is not None:
            return state in self.open_states
        return state not in self.terminal_states()

    # --- checking -----------------------------------------------------------------------------------------

    def may_act(self, transition: Transition, actor: Any, obj: Any = None) -> bool:
        if transition.system:
            return True
        if transition.roles and user_roles(getattr(actor, "user", actor)).isdisjoint(transition.roles):
            return False
        # A row with a permission has an `authorize` (__post_init__).
        if transition.permission and self.authorize and not self.authorize(actor, transition.permission, obj):
            return False
        if transition.allowed is None:
            return True
        allowed = named_callable(transition.allowed) if isinstance(transition.allowed, str) else transition.allowed
        return bool(allowed(actor, obj))

    def check_actor(self, action: str, actor: Any, obj: Any = None) -> Transition:
        """Refuses (PermissionDeniedError, a 403) an actor the row does not name. Services call it before
        validating their input, as they did when the check was theirs; `check` repeats it."""
        transition = self.get(action)
        if not self.may_act(transition, actor, obj):
            denied = transition.denied
            if not isinstance(denied, str | Promise):
                denied = denied(actor, obj)
            raise PermissionDeniedError(denied or _("Your role may not “%(label)s”.") % {"label": transition.label})
        return transition

    def check_state(self, obj: Any, action: str) -> Transition:
        transition = self.get(action)
        if getattr(obj, self.status_field) not in transition.sources:
            if self.wrong_state is not None:
                raise self.wrong_state(obj, transition)
            raise TransitionNotAllowed(
                _("“%(label)s” is not possible while the %(model)s is %(status)s.")
                % {
                    "label": transition.label,
                    "model": obj._meta.verbose_name,
                    "status": _state_label(self.states, getattr(obj, self.status_field)),
                },
                # The API's machine code: `complaint.not_open` once it is over, else `…wrong_state`.
                reason="wrong_state" if self.is_open(getattr(obj, self.status_field)) else "not_open",
            )
        return transition

    def check_guards(self, obj: Any, action: str, data: dict[str, object] | None = None) -> Transition:
        transition = self.get(action)
        for guard in transition.guard_callables():
            refusal = guard(obj, data or {})
            if isinstance(refusal, DomainError):
                raise refusal
            if refusal:
                if self.guard_field is not None:
                    name = self.guard_field(transition)
                else:
                    name = transition.required[-1] if transition.required else "action"
                raise DomainError(refusal, field=name)
        return transition

    def check(self, obj: Any, action: str, actor: Any, *, data: dict[str, object] | None = None) -> Transition:
        """The one checker: the actor, then the object's state, then the guards (given `data` with the
        actor under "actor", for rules like "not the one who reviewed it"). Refuses with a domain error,
        changing nothing; returns the row."""
        self.check_actor(action, actor, obj)
        self.check_state(obj, action)
        return self.check_guards(obj, action, {**(data or {}), "actor": actor})

    def refusal(self, obj: Any, action: str, actor: Any) -> DomainError | None:
        """Why `check` would refuse `actor` this action on `obj` now, input aside (a required field the
        form asks for is not missing yet), or None when it would go ahead. Changes nothing."""
        try:
            self.check(obj, action, actor)
        except DomainError as exc:
            return exc
        return None

    def offered(self, obj: Any, actor: Any, *, actions: Iterable[str] | None = None) -> list[Transition]:
        """The actions the UI offers on `obj` to `actor`: those `check` lets through now — the actor may,
        the state allows it and every guard passes (among `actions`, when given). Every button of a
        status change is drawn from this list; a test posts each one (tests/test_offered_actions.py)."""
        wanted = None if actions is None else set(actions)
        return [
            t
            for t in self.transitions_from(getattr(obj, self.status_field))
            if (wanted is None or t.action in wanted) and self.refusal(obj, t.action, actor) is None
        ]

    def move(
        self, obj: Any, action: str, actor: Any, *, data: dict[str, object] | None = None, checked: bool = False
    ) -> tuple[str, str]:
        """Check (unless the caller just did, `checked=True`) and set the status field of `obj`, locked by
        the caller, to the row's target; the caller saves it with the fields the action sets.
        Returns (before, after)."""
        transition = self.get(action) if checked else self.check(obj, action, actor, data=data)
        before = getattr(obj, self.status_field)
        after = str(getattr(transition.target, "value", transition.target))
        setattr(obj, self.status_field, after)
        return before, after

    # --- printing -----------------------------------------------------------------------------------------

    def as_markdown(self) -> str:
        lines = [
            "| action | from | to | roles | required | performed by |",
            "|---|---|---|---|---|---|",
        ]
        for t in self.transitions:
            sources = ", ".join(sorted(_shown(s) for s in t.sources))
            service = f"`{t.service}`" if t.service else f"`{self.default_service}`"
            lines.append(
                f"| `{t.action}` | {sources} | {_shown(t.target)} | {t.who()} | {', '.join(t.required) or '—'} "
                f"| {service} |"
            )
        return "\n".join(lines) + "\n"


_REGISTRY: dict[str, Lifecycle] = {}


def register(lifecycle: Lifecycle) -> Lifecycle:
    if _REGISTRY.get(lifecycle.name, lifecycle) is not lifecycle:
        raise ValueError(f"two lifecycles are named {lifecycle.name}")
    _REGISTRY[lifecycle.name] = lifecycle
    return lifecycle


@functools.cache
def _discovered() -> None:
    # Each installed app's `lifecycle` module registers its tables; core imports none of them by name.
    autodiscover_modules("lifecycle")


def lifecycles() -> list[Lifecycle]:
    """Every registered lifecycle, in the order of INSTALLED_APPS (the complaint's first), then of its module."""
    _discovered()
    order = {config.label: i for i, config in enumerate(apps.get_app_configs())}
    return sorted(_REGISTRY.values(), key=lambda lc: order.get(lc.model.split(".")[0], len(order)))


def lifecycle_get(name: str) -> Lifecycle | None:
    _discovered()
    return _REGISTRY.get(name)


def lifecycles_markdown(tables: Iterable[Lifecycle] | None = None) -> str:
    """Every table under its own heading: what `closeloop lifecycle` prints and docs/architecture.md holds."""
    parts = []
    with translation.override("en"):
        for lc in lifecycles() if tables is None else tables:
            parts.append(f"#### {lc.title} (`{lc.name}`: `{lc.model}.{lc.status_field}`)\n\n{lc.as_markdown()}")
    return "\n".join(parts)

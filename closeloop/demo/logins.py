"""The demo users `closeloop demo` creates; `closeloop serve` prints them. One shared password."""

from __future__ import annotations

DEMO_PASSWORD = "closeloop-demo"

# (username, role code, what the user can try)
DEMO_USERS: list[tuple[str, str, str]] = [
    ("agent", "agent", "客服坐席 customer-service agent: registers, acknowledges, resolves"),
    ("supervisor", "cs_supervisor", "客服主管 CS supervisor: approvals and escalations"),
    ("handler", "handler", "责任人 handler in Quality and Technical Support"),
    ("manager", "dept_manager", "部门经理 manager of Quality"),
    ("quality", "quality", "质量部 quality: disputes and defect warnings"),
    ("auditor", "auditor", "监察审计 auditor: read-only, sees everything"),
    ("gm", "management", "总经理室 management"),
    ("admin", "admin", "系统管理员 administrator (superuser, /admin/)"),
]

# username -> [(department code, is manager)]
DEMO_MEMBERSHIPS: dict[str, list[tuple[str, bool]]] = {
    "handler": [("quality", False), ("tech", False)],
    "manager": [("quality", True)],
    "quality": [("quality", False)],
    "auditor": [("audit", False)],
    "gm": [("gm", False)],
    "agent": [("cs", False)],
    "supervisor": [("cs", True)],
}

# The user integrating systems act as; its API token is printed once, when created.
INTEGRATION_USERNAME = "integration"
INTEGRATION_ROLE = "agent"
DEMO_COMPLAINTS = 300


def demo_login_lines() -> list[str]:
    """The demo logins as `closeloop demo` and `closeloop serve` print them. The roles in
    TOTP_REQUIRED_ROLES set up an authenticator app at their first login, as in production."""
    from django.conf import settings

    required = set(settings.TOTP_REQUIRED_ROLES)
    lines = [f"{'username':<12} {'role':<14} description"]
    for username, role, description in DEMO_USERS:
        note = "  [2FA: scan the QR code with an authenticator app at the first login]" if role in required else ""
        lines.append(f"{username:<12} {role:<14} {description}{note}")
    return lines

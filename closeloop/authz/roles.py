"""The named role groups: the only sets of roles in the code base (tests/authz/test_no_role_sets.py).

A group names who acts together in the domain; the complaint lifecycle's rows (`roles=`) and the
permission table (`closeloop/authz/permissions.py`) are written with them.
"""

from __future__ import annotations

from closeloop.core.roles import Role

# The customer-service desk: registers, dispatches, follows up, links repeats.
DESK = frozenset({Role.AGENT, Role.CS_SUPERVISOR})
# The desk and the administrator: re-prioritise a complaint, pause its clocks.
DESK_AND_ADMIN = DESK | {Role.ADMIN}
# The departments that handle complaints: handlers and their managers.
DEPARTMENT = frozenset({Role.HANDLER, Role.DEPT_MANAGER})
# Who approves or rejects a solution, and decides postponements with the desk.
APPROVERS = frozenset({Role.CS_SUPERVISOR, Role.MANAGEMENT})
ADMINS = frozenset({Role.ADMIN})
# Everyone who works on complaints and may add evidence (auditors, quality and management only read).
WORKERS = DESK | DEPARTMENT | ADMINS
# Who carries out the steps of a solution: the departments and the desk.
STEP_OWNERS = DEPARTMENT | DESK
# Who sees the figures of the whole company; department managers see their departments' only.
WHOLE_COMPANY = frozenset({Role.MANAGEMENT, Role.CS_SUPERVISOR, Role.QUALITY, Role.AUDITOR, Role.ADMIN})
KPI_READERS = WHOLE_COMPANY | {Role.DEPT_MANAGER}
# Who raises improvement actions besides holders of `improvement.manage_improvement`.
IMPROVEMENT_CREATORS = frozenset({Role.CS_SUPERVISOR, Role.QUALITY, Role.MANAGEMENT})
# Who changes the distribution list of the monthly report.
REPORT_LIST_KEEPERS = frozenset({Role.CS_SUPERVISOR, Role.MANAGEMENT, Role.ADMIN})
# Who meets tasks and feedback forms in their lists: the departments and the CS supervisors.
TASK_READERS = DEPARTMENT | {Role.CS_SUPERVISOR}
# Who takes part in decisions on postponements and disputes.
DECIDERS = frozenset({Role.DEPT_MANAGER, Role.CS_SUPERVISOR, Role.AGENT, Role.MANAGEMENT, Role.QUALITY})
CS_SUPERVISORS = frozenset({Role.CS_SUPERVISOR})
MANAGEMENT = frozenset({Role.MANAGEMENT})
# Who hears of a breach when the policy names no escalation ladder.
ESCALATION_FALLBACK = CS_SUPERVISORS
# Who hears of a safety hazard at once and reads the month's hazards (closeloop/triage/hazards.py).
HAZARD_WATCHERS = frozenset({Role.QUALITY, Role.MANAGEMENT})
# Who only reads: holding no other role, one may not write anything on a task.
READ_ONLY = frozenset({Role.AUDITOR})

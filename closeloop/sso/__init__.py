"""Single sign-on: company accounts from LDAP / Active Directory or an OpenID Connect provider.

Configured from the environment (conf.py), signed in by the backends in ldap.py and oidc.py, and
turned into CloseLoop users, roles and department memberships by one service (services.py)."""

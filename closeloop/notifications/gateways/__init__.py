"""Outbound gateways: SMS (阿里云, 腾讯云, a generic HTTP gateway) and staff chat (WeCom, DingTalk).

`conf` reads their settings from the environment (closeloop/settings.py calls it before Django is set up,
so this package imports no models at import time); `transport` is the one HTTP client they share; each
vendor module signs and sends its own requests. docs/operations.md, "Gateways", lists every variable.
"""

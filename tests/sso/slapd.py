"""A real OpenLDAP server for the LDAP tests: Debian's slapd, started by the suite in a temporary
directory on free ports, as the current user, and stopped at the end.

Two directories in one server:
- `dc=example,dc=com`, OpenLDAP style: inetOrgPerson users under ou=people (and a sub-OU),
  groupOfNames under ou=groups, no memberOf overlay — groups are found by searching member=<DN>;
- `dc=corp,dc=example`, Active Directory style (slapd's msuser schema): `user` entries with
  sAMAccountName, userPrincipalName and memberOf written on the entry, as AD keeps it.
It listens on ldap:// (with StartTLS) and ldaps://, with a certificate from a CA made for the run.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import ldap3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SLAPD = os.environ.get("SLAPD_PATH", "/usr/sbin/slapd")
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")

EXAMPLE = "dc=example,dc=com"
CORP = "dc=corp,dc=example"
ADMIN_PASSWORD = "admin-secret"
SERVICE_DN = f"cn=closeloop-reader,{EXAMPLE}"
SERVICE_PASSWORD = "reader-secret"
CORP_SERVICE_DN = f"CN=svc-closeloop,CN=Users,{CORP}"
# msuser.schema leaves out AD's securityPrincipal class, which carries sAMAccountName; extensibleObject
# stands in for it.
AD_USER_CLASSES = ["top", "person", "organizationalPerson", "user", "extensibleObject"]


def admin_dn(suffix: str) -> str:
    return f"cn=admin,{suffix}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_certificates(workdir: Path) -> None:
    """A CA and a server certificate for 127.0.0.1/localhost, as an installation's own CA would issue."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CloseLoop test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (workdir / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (workdir / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (workdir / "server-key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (workdir / "server-key.pem").chmod(0o600)


def _ad_schema(workdir: Path) -> Path:
    """slapd's msuser.schema, with the equality rule Active Directory has for the two login names
    (the file defines them without one, so a filter on them would match nothing)."""
    text = (SCHEMA_DIR / "msuser.schema").read_text()
    for name in ("sAMAccountName", "userPrincipalName"):
        text = re.sub(
            rf"(NAME '{name}'\s+)SYNTAX",
            r"\1EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX",
            text,
        )
    path = workdir / "msuser.schema"
    path.write_text(text)
    return path


def _config(workdir: Path) -> str:
    schemas = "\n".join(
        [
            *(f"include {SCHEMA_DIR / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")),
            f"include {_ad_schema(workdir)}",
        ]
    )
    databases = []
    for suffix in (EXAMPLE, CORP):
        directory = workdir / suffix.replace(",", "_").replace("=", "-")
        directory.mkdir()
        databases.append(
            f"""
database mdb
maxsize 16777216
suffix "{suffix}"
rootdn "{admin_dn(suffix)}"
rootpw {ADMIN_PASSWORD}
directory {directory}
# As a company directory: passwords only for binding, everything else for signed-in accounts only.
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
"""
        )
    return f"""{schemas}
modulepath {MODULE_DIR}
moduleload back_mdb
pidfile {workdir / "slapd.pid"}
TLSCACertificateFile {workdir / "ca.pem"}
TLSCertificateFile {workdir / "server.pem"}
TLSCertificateKeyFile {workdir / "server-key.pem"}
{"".join(databases)}"""


class Slapd:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.ca_file = str(workdir / "ca.pem")
        self.port = self.ldaps_port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def start(self) -> None:
        _write_certificates(self.workdir)
        (self.workdir / "slapd.conf").write_text(_config(self.workdir))
        for _attempt in range(3):  # a free port can be taken between finding it and slapd binding it
            self.port, self.ldaps_port = _free_port(), _free_port()
            with (self.workdir / "slapd.log").open("w") as log:
                # -d 0: stay in the foreground (no fork), so that terminate() stops it; nothing is logged.
                self.process = subprocess.Popen(
                    [SLAPD, "-f", str(self.workdir / "slapd.conf"), "-h", f"{self.url}/ {self.ldaps_url}/", "-d", "0"],
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                except OSError:
                    time.sleep(0.05)
                    continue
                try:
                    self._load()
                except BaseException:
                    self.stop()  # never leave a slapd behind
                    raise
                return
            error = self.stop()
        raise RuntimeError(f"slapd did not start: {error}")

    def stop(self) -> str:
        """Stop slapd; returns the end of its log (why it did not start, when it did not)."""
        if self.process is None:
            return ""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        return (self.workdir / "slapd.log").read_text(errors="replace")[-2000:]

    def admin(self, suffix: str = EXAMPLE) -> ldap3.Connection:
        return ldap3.Connection(
            ldap3.Server(self.url, get_info=ldap3.NONE), admin_dn(suffix), ADMIN_PASSWORD, auto_bind=True
        )

    def add(self, dn: str, object_class: list[str], attributes: dict[str, Any]) -> None:
        suffix = CORP if dn.lower().endswith(CORP) else EXAMPLE
        with self.admin(suffix) as connection:
            if not connection.add(dn, object_class, attributes):
                raise RuntimeError(f"adding {dn}: {connection.result}")

    def modify(self, dn: str, changes: dict[str, list[tuple[str, list[Any]]]]) -> None:
        suffix = CORP if dn.lower().endswith(CORP) else EXAMPLE
        with self.admin(suffix) as connection:
            if not connection.modify(dn, changes):
                raise RuntimeError(f"modifying {dn}: {connection.result}")

    def _load(self) -> None:
        org = ["top", "organizationalUnit"]
        self.add(EXAMPLE, ["top", "dcObject", "organization"], {"dc": "example", "o": "Example Lighting"})
        self.add(f"ou=people,{EXAMPLE}", org, {"ou": "people"})
        self.add(f"ou=sales,ou=people,{EXAMPLE}", org, {"ou": "sales"})
        self.add(f"ou=groups,{EXAMPLE}", org, {"ou": "groups"})
        self.add(
            SERVICE_DN,
            ["organizationalRole", "simpleSecurityObject"],
            {"cn": "closeloop-reader", "userPassword": SERVICE_PASSWORD},
        )
        # groupOfNames needs a member; the service account is every group's first one.
        for group in ("cs-agents", "cs-leads", "quality", "quality-leads", "canteen"):
            self.add(f"cn={group},ou=groups,{EXAMPLE}", ["groupOfNames"], {"cn": group, "member": [SERVICE_DN]})

        self.add(CORP, ["top", "dcObject", "organization"], {"dc": "corp", "o": "Example Corp"})
        ad = {"instanceType": 4, "nTSecurityDescriptor": b"\x01", "objectCategory": f"CN=Person,CN=Schema,{CORP}"}
        self.add(f"CN=Users,{CORP}", ["top", "organizationalRole"], {"cn": "Users"})  # AD's container
        self.add(f"OU=Groups,{CORP}", org, {"ou": "Groups"})
        self.add(
            CORP_SERVICE_DN,
            AD_USER_CLASSES,
            ad
            | {"cn": "svc-closeloop", "sn": "svc", "sAMAccountName": "svc-closeloop", "userPassword": SERVICE_PASSWORD},
        )
        for group in ("CloseLoop Agents", "CloseLoop Handlers"):
            self.add(
                f"CN={group},OU=Groups,{CORP}",
                ["top", "group"],
                ad | {"cn": group, "groupType": -2147483646, "objectCategory": f"CN=Group,CN=Schema,{CORP}"},
            )

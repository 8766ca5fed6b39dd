"""A real IMAP server for the intake tests: Debian's dovecot, started by the suite in a temporary
directory on free ports (imap with STARTTLS, and imaps with a certificate of the test company CA), as
the current user, with maildirs in the directory; stopped at the end."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = os.environ.get("DOVECOT_PATH", "/usr/sbin/dovecot")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    def __init__(self, workdir: Path, *, cert_file: Path, key_file: Path) -> None:
        self.workdir = workdir
        self.cert_file, self.key_file = cert_file, key_file
        self.imap_port, self.imaps_port = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.users: dict[str, str] = {}
        # Run as root (a container), dovecot's login processes drop to its own unprivileged users, which
        # must reach the sockets and the passwords file, and the mail processes (as dovecot's user) the
        # maildirs: those go to a directory of their own that they may enter.
        self.base_dir = Path(tempfile.mkdtemp(prefix="closeloop-dovecot-"))
        self.base_dir.chmod(0o755)
        self.users_file = self.base_dir / "users"

    def add_user(self, user: str, password: str) -> None:
        self.users[user] = password
        lines = [f"{name}:{{PLAIN}}{secret}::::" for name, secret in self.users.items()]
        self.users_file.write_text("\n".join(lines) + "\n")
        self.users_file.chmod(0o644)
        # Dovecot looks at a passwd-file at most once per second (its ioloop's clock): a lookup earlier in
        # this second would not see the user ("unknown user", seen on a quiet machine). The next login
        # comes in the next second.
        time.sleep(1.01 - time.time() % 1)

    @staticmethod
    def _mail_owner() -> tuple[int, int]:
        """Dovecot refuses to open mail as root: run as root, the maildirs belong to its own user."""
        if os.getuid() == 0:
            entry = pwd.getpwnam("dovecot")
            return entry.pw_uid, entry.pw_gid
        return os.getuid(), os.getgid()

    def _config(self) -> str:
        user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
        root = os.getuid() == 0
        internal, login = ("dovecot", "dovenull") if root else (user, user)
        uid, gid = self._mail_owner()
        w, b = self.workdir, self.base_dir
        return f"""
base_dir = {self.base_dir}
state_dir = {w}/state
log_path = {w}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert_file}
ssl_key = <{self.key_file}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {internal if root else group}
default_login_user = {login}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{b}/mail/%u
passdb {{
  driver = passwd-file
  args = {self.users_file}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={b}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""

    def start(self) -> None:
        (self.workdir / "state").mkdir(exist_ok=True)
        uid, gid = self._mail_owner()
        for sub in ("mail", "home"):
            (self.base_dir / sub).mkdir(exist_ok=True)
            os.chown(self.base_dir / sub, uid, gid)
        if not self.users_file.exists():
            self.users_file.write_text("")
            self.users_file.chmod(0o644)
        config = self.workdir / "dovecot.conf"
        config.write_text(self._config())
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""
                log = self.workdir / "dovecot.log"
                raise RuntimeError(f"dovecot exited: {output}\n{log.read_text() if log.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("dovecot did not open its port in 15 seconds")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.base_dir, ignore_errors=True)

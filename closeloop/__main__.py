"""The `closeloop` command: Django's management commands with CloseLoop's settings
(closeloop/cli/launcher.py: its own commands listed first, a database check before each command)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "closeloop.settings")
    from closeloop.cli.launcher import main as launch

    launch(["closeloop", *sys.argv[1:]])


if __name__ == "__main__":
    main()

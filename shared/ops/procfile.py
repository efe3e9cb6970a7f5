"""The processes of the platform: ``deploy/Procfile``, the one list of them.

supervisord's configuration (``shared.ops.supervision``) and the broker accounts
(``shared.ops.brokerusers``: one user per process) are made from it, and the Kubernetes
manifests are checked against it; both read it here, so neither needs the other.
"""
from pathlib import Path

from ..runtime.config import REPO_ROOT

PROCFILE = REPO_ROOT / "deploy" / "Procfile"


def processes(procfile=PROCFILE):
    """``[(name, command)]`` of the Procfile, in its order."""
    found = []
    for line in Path(procfile).read_text("utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, command = line.partition(":")
            found.append((name.strip(), command.strip()))
    return found

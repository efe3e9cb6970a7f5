"""The independent JOSE verifiers of docs/EVENTS.md, run as a ministry would run them
(issue 23 §2): the Python ones of ``examples/verify_with_jose_libraries.py``, and
``examples/verify_event.mjs`` under Node with the ``jose`` that deploy/schema-check
pins, copied beside a ``node_modules`` of its own as in the subscriber's project."""
import json
import shutil
import subprocess
from pathlib import Path

from examples.verify_with_jose_libraries import (
    verify_with_cryptography,
    verify_with_jwcrypto,
    verify_with_pyjwt,
)

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / "deploy" / "schema-check" / "node_modules"
NODE_EXAMPLE = REPO / "examples" / "verify_event.mjs"
PYTHON_VERIFIERS = {"PyJWT": verify_with_pyjwt, "jwcrypto": verify_with_jwcrypto,
                    "cryptography": verify_with_cryptography}


def verify_with_node_jose(bodies, jwks, folder):
    """``(exit status, output lines)`` of ``node verify_event.mjs JWKS < events`` for the
    event ``bodies`` (bytes as delivered), in ``folder`` (a temporary directory)."""
    node = shutil.which("node")
    assert node, "node missing: deploy/bin/setup installs it"
    assert (NODE_MODULES / "jose").is_dir(), "deploy/bin/setup installs deploy/schema-check"
    project = Path(folder) / "ministry"
    project.mkdir(exist_ok=True)
    if not (project / "node_modules").exists():
        (project / "node_modules").symlink_to(NODE_MODULES)
    shutil.copy(NODE_EXAMPLE, project / "verify_event.mjs")
    (project / "jwks.json").write_text(json.dumps(jwks))
    result = subprocess.run([node, "verify_event.mjs", "jwks.json"], cwd=project,
                            input=b"".join(body + b"\n" for body in bodies),
                            capture_output=True, timeout=60)
    assert not result.stderr, result.stderr.decode()
    return result.returncode, result.stdout.decode().splitlines()

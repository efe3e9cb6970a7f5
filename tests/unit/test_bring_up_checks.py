"""The bring-up's start checks are race-free (deploy/lib/procs.sh): a child started
in the background counts as alive while it is still about to exec its program,
when its command line is still the shell's (a bring-up once failed "mail sink did
not start" with the sink listening); and `make run` says it is ready only when it is."""
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.config import REPO_ROOT
from tests.conftest import unused_port

LIB = REPO_ROOT / "deploy" / "lib" / "procs.sh"
RUN = REPO_ROOT / "deploy" / "bin" / "run"


def check(function, *args):
    return subprocess.run(["bash", "-c", f'. "{LIB}"; {function} "$@"', "check", *map(str, args)],
                          check=False).returncode == 0


def test_a_child_that_has_not_exec_d_yet_is_alive_though_its_command_line_differs():
    # bash runs a while before it execs the program we are waiting for
    child = subprocess.Popen(["bash", "-c", 'sleep 1; exec "$0" 5', "sleep"])
    try:
        time.sleep(0.2)
        assert check("pid_alive", child.pid)
        assert not check("pid_matches", child.pid, "sleep 5")   # not exec'd yet
        time.sleep(1.2)
        assert check("pid_matches", child.pid, "sleep 5")
    finally:
        child.kill()
        child.wait()


def test_a_dead_or_zombie_child_is_not_alive():
    child = subprocess.Popen(["true"])
    time.sleep(0.3)                 # exited, not yet reaped: a zombie
    assert not check("pid_alive", child.pid)
    child.wait()
    assert not check("pid_alive", child.pid)
    assert not check("pid_alive", "")


def _health_server(port):
    """A listener that answers ``GET /health`` with 200, on ``port``."""
    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_make_run_prints_its_addresses_and_ready_only_once_every_service_answers(tmp_path):
    """``deploy/bin/run``'s ready line (with the addresses and "Press Ctrl-C") comes after
    every service and the pages answer /health, never while one is still starting."""
    names = [*os.environ.get("ASAN_SERVICES", "booking notification kiosk_gateway registry "
                             "complaints monitoring").split(), "web"]
    ports = {name: unused_port() for name in names}
    env = dict(os.environ, ASAN_STATE_DIR=str(tmp_path),
               ASAN_WEB_PORT=str(ports.pop("web")),
               **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()})
    supervisor = subprocess.Popen(["sleep", "60"])  # stands for supervisord: alive
    out = tmp_path / "run.out"
    with open(out, "w") as output:
        announcer = subprocess.Popen(
            ["bash", "-c", f'. "{RUN}"; announce_ready {supervisor.pid}'],
            env=env, stdout=output, stderr=subprocess.STDOUT)
    servers = []
    try:
        for port in [*ports.values(), int(env["ASAN_WEB_PORT"])]:
            time.sleep(1.5)  # longer than wait-ready's poll: it sees the others answer
            assert "run: ready" not in out.read_text(), out.read_text()
            assert "Press Ctrl-C" not in out.read_text()
            servers.append(_health_server(port))
        assert announcer.wait(timeout=20) == 0, out.read_text()
        text = out.read_text()
        ready = text.index("run: ready: every service answers. Press Ctrl-C")
        assert text.index("wait-ready: all services healthy") < ready
        for port in [*ports.values(), int(env["ASAN_WEB_PORT"])]:
            assert text.index(f"http://127.0.0.1:{port}") < ready
    finally:
        for server in servers:
            server.shutdown()
        announcer.kill()
        supervisor.kill()
        supervisor.wait()

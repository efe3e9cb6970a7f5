"""The bring-up's checks (deploy/lib/procs.sh, deploy/bin/infra), without the real
servers.

Its start checks are race-free: a child started in the background counts as alive
while it is still about to exec its program, when its command line is still the
shell's (a bring-up once failed "mail sink did not start" with the sink listening).
It says a component is up only when each listener it announces answers in its own
protocol, and names the one that does not."""
import os
import socket
import ssl
import struct
import subprocess
import threading
import time

import pytest

from shared.runtime.config import REPO_ROOT

LIB = REPO_ROOT / "deploy" / "lib" / "procs.sh"


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


# --- the listeners the bring-up announces ----------------------------------------------
# `deploy/bin/infra up` once printed "rabbitmq: started … amqps://…" for a node that ran
# without its AMQPS listener: a connection had held the port (it lay in the kernel's
# ephemeral range) when the node bound it, RabbitMQ logged the failure and ran on, and
# the bring-up looked at the management API only. Of 1150 tests, the one AMQPS test
# then failed with ECONNREFUSED.

INFRA = REPO_ROOT / "deploy" / "bin" / "infra"
AMQP_START = b"\x01\x00\x00\x00\x00\x01\x00\x00\x0a\x00\x0a" + b"\x00" * 16  # connection.start
PORT_VARIABLES = ("PGPORT", "RABBIT_PORT", "RABBIT_MGMT_PORT", "RABBIT_DIST_PORT",
                  "RABBIT_EPMD_PORT", "RABBIT_TLS_PORT", "SMTP_PORT", "ASAN_CLUSTER_AMQP_PORTS",
                  "ASAN_CLUSTER_MGMT_PORTS", "ASAN_CLUSTER_DIST_PORTS", "ASAN_CLUSTER_EPMD_PORT",
                  "ASAN_WEB_PORT", "ASAN_SUPERVISION_PORT")
LINUX_EPHEMERAL_LOW = 32768  # net.ipv4.ip_local_port_range's default: 32768-60999


def _unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A local TCP server answering each connection with ``answer(conn)`` in a thread
    (optionally over TLS): what the probes are pointed at, without the real servers.
    Its own thread closes its socket (also under eventlet, where ``make test`` runs the
    unit tests, a socket must not be closed under another green thread's accept)."""

    def __init__(self, answer, tls=None):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answer, self.tls = answer, tls
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.closing.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()
        self.sock.close()

    def _one(self, conn):
        try:
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            conn.settimeout(1)
            self.answer(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.closing.set()
        self.thread.join(5)


def _amqp(conn):
    if conn.recv(8) == b"AMQP\x00\x00\x09\x01":
        conn.sendall(AMQP_START)
        conn.recv(1)


def _http_401(conn):
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def _smtp(conn):
    conn.sendall(b"220 sink ESMTP\r\n")
    conn.recv(64)


def _postgres(conn):
    while True:
        length, code = struct.unpack("!ii", conn.recv(8))
        if length > 8:
            conn.recv(length - 8)
        if code not in (80877103, 80877104):             # not an SSL/GSS encryption request
            break
        conn.sendall(b"N")                                # no encryption: go on in the clear
    conn.sendall(b"R" + struct.pack("!ii", 8, 3))         # startup: "send your password"
    conn.recv(1)


def _infra_env(tmp_path, **ports):
    env = {key: value for key, value in os.environ.items()
           if key not in PORT_VARIABLES and not key.startswith(("ASAN_", "RABBIT_", "PG", "SMTP_"))}
    env.update(ASAN_STATE_DIR=str(tmp_path / "state"), RABBIT_PASSWORD="unused",
               ASAN_TLS_DIR=str(tmp_path / "tls"), ASAN_LISTENER_TIMEOUT="2")
    env.update({key: str(value) for key, value in ports.items()})
    return env


def _sourced_infra(script, env):
    """Run ``script`` in bash with deploy/bin/infra's functions loaded (as
    deploy/bin/cluster loads them)."""
    # $0 names a file next to infra: infra finds deploy/env.sh from it, and sees it is sourced
    return subprocess.run(["bash", "-c", f'. "{INFRA}"\n{script}', str(INFRA.parent / "test")],
                          env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def local_ca(tmp_path_factory):
    """The local CA and the server certificate, made by the bring-up's own tls_ensure."""
    folder = tmp_path_factory.mktemp("ca")
    made = _sourced_infra("tls_ensure", _infra_env(folder))
    assert made.returncode == 0, made.stderr
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(folder / "tls" / "server.pem", folder / "tls" / "server-key.pem")
    return folder, tls


@pytest.fixture
def servers(local_ca):
    """One answering server per kind of listener the bring-up announces."""
    made = {"postgres": Server(_postgres), "amqp": Server(_amqp),
            "amqps": Server(_amqp, tls=local_ca[1]), "management": Server(_http_401),
            "smtp": Server(_smtp)}
    yield made
    for server in made.values():
        server.close()


def test_the_default_ports_lie_below_the_kernels_ephemeral_range(tmp_path):
    """A port in net.ipv4.ip_local_port_range can be any outgoing connection's local port
    (and stay held for a minute in TIME_WAIT after it closed) just when a server of
    ours binds it."""
    env = {"PATH": os.environ["PATH"], "ASAN_STATE_DIR": str(tmp_path), "RABBIT_PASSWORD": "x"}
    shown = subprocess.run(
        ["bash", "-c", f'. "{REPO_ROOT}/deploy/env.sh"; for v in {" ".join(PORT_VARIABLES)} '
         '; do echo "$v=${!v}"; done; for s in $ASAN_SERVICES; do '
         'v=${s^^}_PORT; r=${s^^}_RELAY_PORT; echo "$v=${!v}"; echo "$r=${!r}"; done'],
        env=env, capture_output=True, text=True, check=True).stdout
    ports = {f"{line.split('=')[0]} {port}": int(port)
             for line in shown.splitlines() if "=" in line for port in line.split("=")[1].split()}
    assert len(ports) >= 30
    low = LINUX_EPHEMERAL_LOW
    with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
        low = min(low, int(handle.read().split()[0]))
    assert {name: port for name, port in ports.items() if port >= low} == {}


def test_each_probe_answers_for_its_own_protocol_only(servers, local_ca):
    folder, _ = local_ca
    ca = folder / "tls" / "ca.pem"
    closed = _unused_port()
    port = {kind: server.port for kind, server in servers.items()}
    assert check("amqp_answers", "127.0.0.1", port["amqp"])
    assert check("amqps_answers", "127.0.0.1", port["amqps"], ca, "localhost")
    assert check("smtp_answers", "127.0.0.1", port["smtp"])
    assert check("http_answers", f"http://127.0.0.1:{port['management']}/api/overview")
    assert check("postgres_answers", "127.0.0.1", port["postgres"])
    # Something else on the port, or nothing: no.
    assert not check("amqp_answers", "127.0.0.1", port["smtp"])
    assert not check("amqp_answers", "127.0.0.1", port["amqps"])
    assert not check("amqps_answers", "127.0.0.1", port["amqp"], ca, "localhost")
    assert not check("smtp_answers", "127.0.0.1", port["amqp"])
    assert not check("http_answers", f"http://127.0.0.1:{port['amqp']}/")
    for probe in ("amqp_answers", "smtp_answers", "postgres_answers"):
        assert not check(probe, "127.0.0.1", closed)
    assert not check("amqps_answers", "127.0.0.1", closed, ca, "localhost")
    # AMQPS is verified as our clients verify it: this CA, the certificate's name.
    assert not check("amqps_answers", "127.0.0.1", port["amqps"], ca, "example.org")
    assert not check("amqps_answers", "127.0.0.1", port["amqps"], _system_cas(), "localhost")


def _system_cas():
    return ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"


def test_infra_check_names_the_listener_that_does_not_answer(servers, local_ca):
    folder, _ = local_ca
    env = _infra_env(folder, PGPORT=servers["postgres"].port, RABBIT_PORT=servers["amqp"].port,
                     RABBIT_TLS_PORT=_unused_port(), RABBIT_MGMT_PORT=servers["management"].port,
                     SMTP_PORT=servers["smtp"].port)
    result = subprocess.run([str(INFRA), "check"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1, result
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines())
    assert {name.strip() for name in lines} == {"postgres", "amqp", "amqps", "management",
                                                "mailsink"}
    assert [name.strip() for name, state in lines.items() if "NOT ANSWERING" in state] == ["amqps"]
    assert "not answering: amqps" in result.stderr

    env["RABBIT_TLS_PORT"] = str(servers["amqps"].port)
    result = subprocess.run([str(INFRA), "check"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.count(" answers") == 5, result


def test_a_running_broker_without_its_amqps_listener_is_not_reported_up(servers, local_ca):
    """``infra up`` with the node already running: its management API and AMQP answer,
    AMQPS does not. It fails naming AMQPS rather than print "already running … amqps"."""
    folder, _ = local_ca
    tls_port = _unused_port()
    env = _infra_env(folder, RABBIT_PORT=servers["amqp"].port, RABBIT_TLS_PORT=tls_port,
                     RABBIT_MGMT_PORT=servers["management"].port)
    result = _sourced_infra("rabbit_running() { true; }; rabbit_pid() { echo 4242; }\n"
                            "rabbit_wait", env)
    assert result.returncode == 1, result
    assert f"amqps amqps://127.0.0.1:{tls_port} is not answering" in result.stderr
    assert "already running" not in result.stdout


def test_a_listener_the_node_could_not_open_fails_the_bring_up_with_its_reason(servers, local_ca,
                                                                            tmp_path):
    """Just launched, the node logs that it could not bind the AMQPS port and runs on
    without it: the bring-up stops at once and says why."""
    folder, _ = local_ca
    tls_port = _unused_port()
    env = _infra_env(folder, RABBIT_PORT=servers["amqp"].port, RABBIT_TLS_PORT=tls_port,
                     RABBIT_MGMT_PORT=servers["management"].port, RABBIT_NODENAME="t@localhost",
                     ASAN_RABBIT_DIR=str(tmp_path / "node"), ASAN_LISTENER_TIMEOUT="60")
    log = tmp_path / "node" / "log" / "t@localhost.log"
    log.parent.mkdir(parents=True)
    log.write_text("[error] an earlier boot's failure, not this one's: Failed to start Ranch "
                   f"listener {{acceptor,{{127,0,0,1}},{tls_port}}} in ranch_ssl:listen(#{{}}) "
                   "for reason eacces (permission denied)\n")
    failure = ("[error] <0.813.0> Failed to start Ranch listener {acceptor,{127,0,0,1},"
               f"{tls_port}}} in ranch_ssl:listen(#{{connection_type => supervisor}}) for reason "
               "eaddrinuse (address already in use)\n")
    started = time.monotonic()
    result = _sourced_infra(
        f'RABBIT_LAUNCHED=1; RABBIT_LOG_FROM=$(stat -c %s "{log}")\n'
        f"rabbit_alive() {{ true; }}; rabbit_pid() {{ echo 4242; }}\n"
        f"printf '%s' '{failure}' >>'{log}'\nrabbit_wait", env)
    assert result.returncode == 1, result
    assert f"amqps amqps://127.0.0.1:{tls_port} did not come up" in result.stderr
    assert "eaddrinuse (address already in use)" in result.stderr and "eacces" not in result.stderr
    assert "started" not in result.stdout
    assert time.monotonic() - started < 30   # at once, not after the listener timeout


def test_a_port_a_connection_holds_is_waited_for_before_a_server_binds_it(tmp_path):
    """Nothing listens on the port, but a connection has it as its local port: a server
    could not bind it yet. The bring-up waits until it is free, instead of starting a
    server that would run without that listener."""
    closing = threading.Event()
    server = Server(lambda conn: closing.wait(30))
    port = _unused_port()
    client = socket.socket()
    client.bind(("127.0.0.1", port))
    client.connect(("127.0.0.1", server.port))
    assert not check("port_open", "127.0.0.1", port)
    assert not check("port_bindable", "127.0.0.1", port)

    def release():
        time.sleep(1.5)
        closing.set()       # the server's end closes first: no TIME_WAIT on our side
        time.sleep(0.3)
        client.close()

    threading.Thread(target=release, daemon=True).start()
    started = time.monotonic()
    try:
        result = _sourced_infra(f'require_free_port 127.0.0.1 {port} postgres && echo "free now"',
                                _infra_env(tmp_path))
    finally:
        server.close()
    assert result.returncode == 0, result
    assert f"port 127.0.0.1:{port} is held by a connection" in result.stdout
    assert result.stdout.rstrip().endswith("free now")
    assert time.monotonic() - started >= 1.5
    assert check("port_bindable", "127.0.0.1", port)

# shellcheck shell=bash
# Process and port checks shared by deploy/bin/infra and deploy/bin/run.

# read_pid FILE: the first number in FILE, or nothing.
read_pid() { [ -s "$1" ] && head -n 1 "$1" | tr -dc '0-9' || true; }

# pid_matches PID PATTERN: PID is a live (non-zombie) process whose command line
# contains PATTERN. Guards against stale pid files whose pid got reused. A zombie
# has an empty command line.
pid_matches() {
    local cmdline
    [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
    # (the process may exit right now: keep the shell's own error quiet too)
    cmdline="$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null)" || return 1
    [ -n "$cmdline" ] && [[ "$cmdline" == *"$2"* ]]
}

# pid_alive PID: the process exists and is not a zombie. For a child just started
# in the background ($!) this is the liveness check while it starts: until it has
# exec'd, /proc/PID/cmdline is still our own shell's, so pid_matches would take a
# starting process for a dead one (a bring-up once failed so, with the sink already
# listening).
pid_alive() {
    [ -n "$1" ] && [ -r "/proc/$1/status" ] &&
        ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

port_open() { (: <"/dev/tcp/$1/$2") 2>/dev/null; }

# ------------------------------------------------------------------ listeners
# Whether a listener answers in its own protocol, not just accepts a connection:
# what `deploy/bin/infra up` waits for before it says a component is up, and what
# `deploy/bin/infra check` reports.

# A Python for the checks bash cannot make (a bind): the project's, else the system's.
_probe_python() {
    if [ -n "${ASAN_ROOT:-}" ] && [ -x "$ASAN_ROOT/.venv/bin/python" ]; then
        echo "$ASAN_ROOT/.venv/bin/python"
    else
        echo python3
    fi
}

# port_bindable HOST PORT: a server could bind HOST:PORT now, with SO_REUSEADDR as
# RabbitMQ and PostgreSQL do. A port nothing listens on can still be taken: by a
# connection whose local (ephemeral) port the kernel chose it to be, while it is open
# and for a minute after it closed (TIME_WAIT). RabbitMQ then runs on without that
# listener.
port_bindable() {
    "$(_probe_python)" - "$1" "$2" <<'PY' 2>/dev/null
import socket, sys
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    sock.bind((sys.argv[1], int(sys.argv[2])))
except OSError:
    sys.exit(1)
PY
}

# ephemeral_ports PORT...: those of the ports the kernel may give to outgoing
# connections as their local port (net.ipv4.ip_local_port_range).
ephemeral_ports() {
    local low high port
    read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || return 0
    for port in "$@"; do
        [ "$port" -lt "$low" ] || [ "$port" -gt "$high" ] || echo "$port"
    done
}

# amqp_answers HOST PORT: an AMQP 0-9-1 broker answers the protocol header with its
# connection.start method (frame type 1, channel 0, class 10, method 10).
_AMQP_HEADER='AMQP\x00\x00\x09\x01'
_amqp_start() { [[ "$(od -An -tx1 | tr -s ' \n' ' ')" == " 01 00 00 "*" 00 0a 00 0a " ]]; }
amqp_answers() {
    # shellcheck disable=SC2016
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "$3" >&3 && head -c 11 <&3' \
        amqp "$1" "$2" "$_AMQP_HEADER" 2>/dev/null | _amqp_start
}

# amqps_answers HOST PORT CA_FILE NAME: the same over TLS, the broker's certificate
# verified against CA_FILE for the host name NAME (as our clients verify it).
amqps_answers() {
    timeout 5 "$(_probe_python)" - "$@" <<'PY' 2>/dev/null | _amqp_start
import socket, ssl, sys
host, port, ca_file, name = sys.argv[1:5]
context = ssl.create_default_context(cafile=ca_file)
with socket.create_connection((host, int(port)), timeout=4) as raw:
    with context.wrap_socket(raw, server_hostname=name) as sock:
        sock.sendall(b"AMQP\x00\x00\x09\x01")
        reply = b""
        while len(reply) < 11:
            chunk = sock.recv(11 - len(reply))
            if not chunk:
                break
            reply += chunk
sys.stdout.buffer.write(reply)
PY
}

# smtp_answers HOST PORT: an SMTP server greets with 220.
smtp_answers() {
    local greeting
    # shellcheck disable=SC2016
    greeting="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && head -n 1 <&3 &&
        printf "QUIT\r\n" >&3' smtp "$1" "$2" 2>/dev/null)" || return 1
    [[ "$greeting" == 220[\ -]* ]]
}

# http_answers URL: an HTTP server answers (any status but a 5xx: RabbitMQ's management
# API says 401 to a request without credentials).
http_answers() {
    local code
    code="$(curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 3 "$1" 2>/dev/null)"
    [[ "$code" =~ ^[1-4][0-9][0-9]$ ]]
}

# postgres_answers HOST PORT: PostgreSQL accepts connections.
postgres_answers() {
    "${PG_BIN:-/usr/lib/postgresql/15/bin}/pg_isready" -q -h "$1" -p "$2" -t 3
}

"""Supervision (issue 13 §1), without servers: supervisord's configuration comes from
the one process list (deploy/Procfile), and the event listener counts crashes."""
import configparser
import io
import socket
import threading
import time

import requests

from shared.ops import brokerusers, supervision


def _config(scale):
    text = supervision.render_config("/state", "/state/log", scale=scale, run_id="r1")
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return parser


def test_every_procfile_process_is_a_program_restarted_with_back_off_and_its_own_log():
    config = _config(1)
    names = [name for name, _ in supervision.processes()]
    assert {"booking", "booking-relay", "notification", "web"} <= set(names)
    for name in names:
        program = config[f"program:{name}"]
        assert program["autorestart"] == "true" and int(program["startretries"]) >= 10
        assert program["stopsignal"] == "TERM" and program["stopasgroup"] == "true"
        assert program["stdout_logfile"] == "/state/log/%(program_name)s.log"
        assert program["numprocs"] == "1"
        assert 'ASAN_LOG_DIR=""' in program["environment"]  # supervisord writes the file
    assert config["eventlistener:supervision"]["events"] == "PROCESS_STATE"


def test_scale_runs_n_of_each_with_their_own_names():
    config = _config(3)
    program = config["program:booking-relay"]
    assert program["numprocs"] == "3"
    assert program["process_name"] == "%(program_name)s-%(process_num)d"
    assert 'ASAN_INSTANCE="%(process_num)d"' in program["environment"]


def test_each_program_connects_to_the_broker_with_its_own_account(tmp_path, monkeypatch):
    """Issue 14 §1: every node of AMQP_URI, the program's own user and password."""
    monkeypatch.setenv("ASAN_SECRETS_DIR", str(tmp_path))
    for name in ("booking", "booking-relay"):
        (tmp_path / f"rabbitmq-{name}").write_text(f"pw-{name}\n")
    uris = {name: brokerusers.process_amqp_uri(
        name, "amqp://asan-admin:secret@a:5672/;amqp://asan-admin:secret@b:5672/")
        for name in ("booking", "booking-relay")}
    text = supervision.render_config("/state", "/state/log", run_id="r1", amqp_uris=uris)
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    assert 'AMQP_URI="amqp://booking-relay:pw-booking-relay@a:5672/;' \
           'amqp://booking-relay:pw-booking-relay@b:5672/"' \
        in parser["program:booking-relay"]["environment"]
    assert "booking:pw-booking@a:5672" in parser["program:booking"]["environment"]
    assert "AMQP_URI" not in parser["program:web"]["environment"]  # none given: inherited


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _event(name, **fields):
    payload = " ".join(f"{key}:{value}" for key, value in fields.items())
    return f"ver:3.0 server:supervisor serial:1 pool:supervision poolserial:1 " \
           f"eventname:{name} len:{len(payload)}\n{payload}"


def test_the_listener_counts_a_crash_and_shows_each_process_state():
    events = "".join([
        _event("PROCESS_STATE_RUNNING", processname="booking", groupname="booking",
               from_state="STARTING", pid=10),
        _event("PROCESS_STATE_EXITED", processname="booking", groupname="booking",
               from_state="RUNNING", expected=0, pid=10),
        _event("PROCESS_STATE_STARTING", processname="booking", groupname="booking",
               from_state="EXITED", tries=0),
    ])
    stdin, stdout, port = io.StringIO(events), io.StringIO(), _free_port()
    listener = threading.Thread(target=supervision.listen, args=(stdin, stdout, port),
                                daemon=True)
    listener.start()
    deadline = time.monotonic() + 10
    while stdout.getvalue().count("RESULT 2\nOK") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'asan_process_exits_total{expected="false",program="booking"} 1.0' in metrics
    assert 'asan_process_up{program="booking"} 0.0' in metrics
    assert stdout.getvalue().startswith("READY\n")

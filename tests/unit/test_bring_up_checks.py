"""The bring-up's start checks are race-free (deploy/lib/procs.sh): a child started
in the background counts as alive while it is still about to exec its program,
when its command line is still the shell's (a bring-up once failed "mail sink did
not start" with the sink listening)."""
import subprocess
import time

from shared.config import REPO_ROOT

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

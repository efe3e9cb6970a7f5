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

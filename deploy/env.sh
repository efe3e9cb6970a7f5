# shellcheck shell=bash
# Defaults for the local stack. Every deploy/bin script sources this file.
#
# A variable that is already set (and non-empty) in the environment wins, so
# `PGPORT=6000 make run` or a CI override works without editing anything.
# Derived values (URLs) are only built when they are not given themselves.

# Always the checkout this file belongs to (never inherited from elsewhere).
ASAN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ASAN_ROOT

# _default NAME VALUE: export NAME=VALUE unless NAME already has a value.
_default() {
    if [ -z "${!1:-}" ]; then
        export "$1=$2"
    else
        export "${1?}"
    fi
}

_default ASAN_STATE_DIR "$ASAN_ROOT/.state"
# Child processes run with other working directories: keep the path absolute.
case "$ASAN_STATE_DIR" in /*) ;; *) ASAN_STATE_DIR="$PWD/$ASAN_STATE_DIR" ;; esac
# Every service and relay also writes its JSON log to $ASAN_LOG_DIR/<name>.log.
_default ASAN_LOG_DIR "$ASAN_STATE_DIR/log"
# Each service's key set signing its public events (shared/signing.py, `make run`).
_default ASAN_KEYS_DIR "$ASAN_STATE_DIR/keys"

# PostgreSQL (project-local cluster, see deploy/bin/infra)
_default PGHOST 127.0.0.1
_default PGPORT 55432
_default ASAN_PG_USER asan
_default ASAN_PG_PASSWORD asan

# RabbitMQ (project-local node)
_default RABBIT_HOST 127.0.0.1
_default RABBIT_PORT 55672
_default RABBIT_MGMT_PORT 55673
_default RABBIT_DIST_PORT 55674
_default RABBIT_EPMD_PORT 55675
_default RABBIT_NODENAME asan@localhost  # another stack on the same machine needs its own
_default RABBIT_USER guest
_default RABBIT_PASSWORD guest

# The 3-node RabbitMQ cluster of `make cluster` and its test (deploy/bin/cluster):
# node N has the N-th port of each list; the nodes share one epmd.
_default ASAN_CLUSTER_AMQP_PORTS "56701 56702 56703"
_default ASAN_CLUSTER_MGMT_PORTS "56711 56712 56713"
_default ASAN_CLUSTER_DIST_PORTS "56721 56722 56723"
_default ASAN_CLUSTER_EPMD_PORT 56730

# Mail sink (deploy/mailsink.py)
_default SMTP_HOST 127.0.0.1
_default SMTP_PORT 55025
_default ASAN_MAIL_DIR "$ASAN_STATE_DIR/mail"

_default AMQP_URI "amqp://$RABBIT_USER:$RABBIT_PASSWORD@$RABBIT_HOST:$RABBIT_PORT/"
_default RABBIT_API_URI "http://$RABBIT_USER:$RABBIT_PASSWORD@$RABBIT_HOST:$RABBIT_MGMT_PORT"
_default ASAN_PG_ADMIN_URL "postgresql://$ASAN_PG_USER:$ASAN_PG_PASSWORD@$PGHOST:$PGPORT/postgres"

# The services, in a fixed order: HTTP port 800N, relay metrics port 900N,
# database asan_<name>.
ASAN_SERVICES="booking notification kiosk_gateway registry complaints monitoring"
export ASAN_SERVICES
_n=1
for _svc in $ASAN_SERVICES; do
    _var="${_svc^^}"
    _default "${_var}_PORT" "800$_n"
    _default "${_var}_RELAY_PORT" "900$_n"
    _default "${_var}_DATABASE_URL" \
        "postgresql://$ASAN_PG_USER:$ASAN_PG_PASSWORD@$PGHOST:$PGPORT/asan_$_svc"
    _n=$((_n + 1))
done
unset _n _svc _var

# The citizen web pages (services/web): no database, no relay, one origin for the
# citizen (deploy/nginx/asan.conf in production).
_default ASAN_WEB_PORT 8080

# supervisord's event listener serves the processes' restarts and states here
# (shared/supervision.py). SCALE=N runs N of each service and relay.
_default ASAN_SUPERVISION_PORT 9009
_default SCALE 1

# psycopg must not block the eventlet hub the nameko services run on.
_default PSYCOPG_WAIT_FUNC wait_select

# Tests run under eventlet's monkey patch (`nameko test`): hypothesis must not load
# the entry-point plugins of other packages (trio's, via selenium, breaks on green
# sockets).
_default HYPOTHESIS_NO_PLUGINS 1
unset -f _default

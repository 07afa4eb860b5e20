#!/usr/bin/env bash
# What `make test` needs besides Python: PostgreSQL and Redis on their standard local ports
# (started here if installed but stopped) and Debian's Chromium. Says what is missing.
set -u
fail() { echo "make test: $*" >&2; exit 1; }

pg_up() { python3 - <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(2)
try:
    s.connect(("127.0.0.1", 5432))
except OSError:
    sys.exit(1)
PY
}
if ! pg_up; then
    if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
        echo "Starting PostgreSQL…"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
    fi
    pg_up || fail "PostgreSQL is not reachable on 127.0.0.1:5432 (install it, or start it: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)."
fi

redis_up() { python3 - <<'PY'
import socket, sys
s = socket.socket(); s.settimeout(2)
try:
    s.connect(("127.0.0.1", 6379)); s.sendall(b"PING\r\n"); sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}
if ! redis_up; then
    if command -v redis-server >/dev/null; then
        echo "Starting Redis…"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
        for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
    fi
    redis_up || fail "Redis is not reachable on 127.0.0.1:6379 (apt-get install redis-server, or start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no)."
fi

[ -x /usr/bin/chromium ] || fail "Chromium is missing at /usr/bin/chromium (as root: apt-get update && apt-get install -y chromium)."
exit 0

# Shared by deploy/local/{up,down,test,servers}: start and stop the local PostgreSQL, Redis,
# RabbitMQ and nginx on loopback under $GMALL_HOME (default <repo>/.cluster). Safe to re-run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GMALL_HOME="${GMALL_HOME:-$ROOT/.cluster}"
PG_PORT="${GMALL_PG_PORT:-55432}"
REDIS_PORT="${GMALL_REDIS_PORT:-56379}"
AMQP_PORT="${GMALL_AMQP_PORT:-55672}"
AMQP_DIST_PORT="${GMALL_AMQP_DIST_PORT:-25673}"
GATEWAY_PORT="${GMALL_GATEWAY_PORT:-8888}"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}"
RABBIT_NODE="gmall-$AMQP_PORT@localhost"
DATABASES="guli_payment guli_oms guli_wms guli_ums guli_sms"

step() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
ok() { printf '    \033[32mok\033[0m %s\n' "$*"; }
warn() { printf '    \033[33mwarning\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# Installs the Debian packages the suite needs (only the missing ones).
ensure_packages() {
    local wanted="postgresql redis-server rabbitmq-server nginx-light libpq-dev libhiredis-dev librabbitmq-dev libssl-dev openssl curl python3-yaml procps"
    local missing=""
    for p in $wanted; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    # nginx from any flavour is fine
    if [[ " $missing " == *" nginx-light "* ]] && command -v nginx >/dev/null; then missing="${missing/ nginx-light/}"; fi
    if [ -n "$missing" ]; then
        step "installing Debian packages:$missing"
        [ "$(id -u)" = 0 ] || die "need root to apt-get install:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
        # Debian starts services on install on some images; ours run on their own ports, stop theirs.
        (service rabbitmq-server stop; service redis-server stop; service nginx stop; service postgresql stop) >/dev/null 2>&1 || true
    fi
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
    ok "packages present"
}

start_postgres() {
    step "PostgreSQL on 127.0.0.1:$PG_PORT"
    local dir="$GMALL_HOME/postgres"
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    chmod 755 "$GMALL_HOME"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        runuser -u postgres -- "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log"; die "initdb failed"; }
    fi
    if ! runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" start >/dev/null \
            || { tail -20 "$dir/postgres.log"; die "PostgreSQL did not start"; }
    fi
    for db in $DATABASES; do
        psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
            || psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db" >/dev/null
    done
    ok "databases: $DATABASES"
}

stop_postgres() {
    local dir="$GMALL_HOME/postgres"
    [ -f "$dir/data/PG_VERSION" ] || return 0
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 && ok "PostgreSQL stopped" || true
}

start_redis() {
    step "Redis on 127.0.0.1:$REDIS_PORT (AOF on)"
    local dir="$GMALL_HOME/redis"
    mkdir -p "$dir"
    if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$dir" --appendonly yes --appendfsync everysec \
            --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --protected-mode yes
        for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    redis-cli -p "$REDIS_PORT" ping >/dev/null || die "Redis did not start (see $dir/redis.log)"
    ok "PONG"
}

stop_redis() {
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 && ok "Redis stopped" || true
}

rabbit_env() {
    local dir="$GMALL_HOME/rabbitmq"
    mkdir -p "$dir/mnesia" "$dir/log"
    export HOME="$dir" RABBITMQ_NODENAME="$RABBIT_NODE" RABBITMQ_MNESIA_BASE="$dir/mnesia" \
        RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_DIST_PORT="$AMQP_DIST_PORT" RABBITMQ_PID_FILE="$dir/rabbitmq.pid" ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        ERL_CRASH_DUMP="$dir/log/erl_crash.dump"
    [ -f "$dir/rabbitmq.conf" ] || printf 'loopback_users.guest = true\nlisteners.tcp.default = %s\n' "$AMQP_PORT" >"$dir/rabbitmq.conf"
    [ -f "$dir/enabled_plugins" ] || echo '[].' >"$dir/enabled_plugins"
}

start_rabbitmq() {
    step "RabbitMQ on 127.0.0.1:$AMQP_PORT"
    ( rabbit_env
      if ! /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBIT_NODE" status >/dev/null 2>&1; then
          /usr/lib/rabbitmq/bin/rabbitmq-server -detached >/dev/null 2>&1
          timeout 90 /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBIT_NODE" wait "$RABBITMQ_PID_FILE" >/dev/null 2>&1 \
              || { tail -30 "$RABBITMQ_LOG_BASE"/*.log 2>/dev/null; die "RabbitMQ did not start"; }
      fi )
    ok "node $RABBIT_NODE"
}

stop_rabbitmq() {
    ( rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBIT_NODE" stop >/dev/null 2>&1 && ok "RabbitMQ stopped" || true )
}

# Restarts the broker (fault tests and the broker-restart integration test use it).
restart_rabbitmq() {
    ( rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBIT_NODE" stop >/dev/null 2>&1 || true )
    start_rabbitmq
}

# Dev key pairs: merchant (app) and Alipay simulator (RSA2), and the JWT signing key.
# Made once per cluster folder; never committed and never production keys.
ensure_keys() {
    local dir="$GMALL_HOME/keys"
    mkdir -p "$dir"
    for name in merchant alipay jwt; do
        if [ ! -f "$dir/${name}_private.pem" ]; then
            openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/${name}_private.pem" 2>/dev/null
            openssl pkey -in "$dir/${name}_private.pem" -pubout -out "$dir/${name}_public.pem" 2>/dev/null
        fi
    done
    # The key the services sign their calls to each other with (service tokens, HMAC-SHA256).
    if [ ! -f "$dir/service.key" ]; then
        (umask 077; openssl rand -hex 32 >"$dir/service.key")
    fi
    ok "dev keys in $dir"
}

start_servers() {
    mkdir -p "$GMALL_HOME"
    start_postgres
    start_redis
    start_rabbitmq
}

# Environment every service and test reads (see ServiceConfig).
export_service_env() {
    export GMALL_REDIS_PORT="$REDIS_PORT" GMALL_AMQP_PORT="$AMQP_PORT" GMALL_MIGRATIONS="$ROOT/deploy/migrations"
    export GMALL_PG_BASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT"
    export GMALL_KEYS="$GMALL_HOME/keys"
    [ -f "$GMALL_HOME/admin-token" ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$GMALL_HOME/admin-token"
    GMALL_ADMIN_TOKEN="$(cat "$GMALL_HOME/admin-token")"
    export GMALL_ADMIN_TOKEN
}

# Renders the gateway template for the local cluster: the services' PUBLIC ports on loopback, the
# local profile's extras (the Alipay simulator's cashier). Arguments: output file, listen port,
# and the public ports of payment, oms, wms, seckill and the simulator.
render_gateway() {
    local out="$1" listen="${2:-$GATEWAY_PORT}" payment="${3:-18092}" oms="${4:-18091}" wms="${5:-18093}" seckill="${6:-18094}" sim="${7:-18095}"
    local extras; extras="$(dirname "$out")/gateway-local"
    mkdir -p "$extras"
    sed -e "s/\${ALIPAY_SIM_UPSTREAM}/127.0.0.1:$sim/" "$ROOT/deploy/nginx/local/alipay-sim.conf.template" >"$extras/alipay-sim.conf"
    sed -e "s/\${PAYMENT_UPSTREAM}/127.0.0.1:$payment/" -e "s/\${OMS_UPSTREAM}/127.0.0.1:$oms/" \
        -e "s/\${WMS_UPSTREAM}/127.0.0.1:$wms/" -e "s/\${SECKILL_UPSTREAM}/127.0.0.1:$seckill/" \
        -e "s/\${GATEWAY_LISTEN}/127.0.0.1:$listen/" -e "s|\${GATEWAY_TRUSTED_PROXY}|${GATEWAY_TRUSTED_PROXY:-127.0.0.1/32}|" \
        -e "s|\${GATEWAY_EXTRAS}|$extras|" -e "s|\${GATEWAY_SITE}|$ROOT/deploy/nginx/site|" \
        -e "s|\${GATEWAY_CACHE}|$(dirname "$out")/tmp/cache|" \
        "$ROOT/deploy/nginx/gateway.conf.template" >"$out"
}

# nginx as root runs workers as nobody: pid, logs and temp paths live in a folder they can write.
# Arguments: the folder (default $GMALL_HOME/nginx), then render_gateway's ports.
nginx_conf() {
    local dir="${1:-$GMALL_HOME/nginx}"
    shift || true
    mkdir -p "$dir/logs" "$dir/tmp"
    chmod 777 "$dir/tmp"
    render_gateway "$dir/gateway.conf" "$@"
    cat >"$dir/nginx.conf" <<CONF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log $dir/logs/access.log;
    client_body_temp_path $dir/tmp/client_body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    include $dir/gateway.conf;
}
CONF
    echo "$dir/nginx.conf"
}

start_nginx() {
    step "nginx gateway on 127.0.0.1:$GATEWAY_PORT"
    local conf; conf="$(nginx_conf)"
    nginx -t -q -c "$conf" -p "$GMALL_HOME/nginx" || die "gateway config does not load"
    if [ -f "$GMALL_HOME/nginx/nginx.pid" ] && kill -0 "$(cat "$GMALL_HOME/nginx/nginx.pid")" 2>/dev/null; then
        nginx -c "$conf" -p "$GMALL_HOME/nginx" -s reload
    else
        nginx -c "$conf" -p "$GMALL_HOME/nginx"
    fi
    ok "gateway up"
}

# A gateway in front of the in-process test cluster (Tests/ServiceTests/TestCluster.swift): the same
# template, on :28888, to the test services' public ports.
start_test_gateway() {
    local dir="$GMALL_HOME/test-nginx" conf
    conf="$(nginx_conf "$dir" 28888 28092 28091 28093 28094 28095)"
    nginx -t -q -c "$conf" -p "$dir" || die "test gateway config does not load"
    # A fresh start, not a reload: the old workers of a reload close the keep-alive connections
    # a test run opens in its first second (remoteConnectionClosed in a test, now and then).
    if [ -f "$dir/nginx.pid" ] && kill -0 "$(cat "$dir/nginx.pid")" 2>/dev/null; then
        local pid; pid="$(cat "$dir/nginx.pid")"
        nginx -c "$conf" -p "$dir" -s stop
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    nginx -c "$conf" -p "$dir"
}

stop_nginx() {
    local pidfile="$GMALL_HOME/nginx/nginx.pid"
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null && ok "nginx stopped" || true
}

# name:port of every process `up` starts (the four services, later the Alipay simulator).
# A service's internal listener is its public port + 1000 (GMALL_INTERNAL_PORT's default).
SERVICES="${GMALL_SERVICES:-alipay-simulator:18095 oms:18091 wms:18093 payment:18092 seckill:18094}"
BUILD_CONFIG="${GMALL_BUILD:-debug}"

build_services() {
    step "building the services (swift build -c $BUILD_CONFIG; the first build takes a few minutes)"
    (cd "$ROOT" && swift build -c "$BUILD_CONFIG" 2>&1 | grep -E "error|warning: unre|Compiling|Build complete" | sed 's/^/    /' | awk '/Compiling/ { n++; if (n % 25 == 0) print "    ... " n " modules compiled"; next } { print }')
    [ -x "$ROOT/.build/$BUILD_CONFIG/payment" ] || die "build failed"
    ok "built"
}

start_service() {
    local name="$1" port="$2" dir="$GMALL_HOME/services"
    mkdir -p "$dir"
    if [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
        stop_pid "$name" "$(cat "$dir/$name.pid")"
    fi
    GMALL_HTTP_PORT="$port" nohup "$ROOT/.build/$BUILD_CONFIG/$name" >>"$dir/$name.log" 2>&1 &
    echo $! >"$dir/$name.pid"
    for _ in $(seq 150); do
        curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && { ok "$name on 127.0.0.1:$port (log $dir/$name.log)"; return 0; }
        kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null || break
        sleep 0.2
    done
    tail -20 "$dir/$name.log"
    die "$name did not become healthy"
}

stop_pid() {  # name pid: SIGTERM, up to 10 s for the graceful shutdown, then SIGKILL (never left running)
    kill "$2" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.1; done
    warn "$1 (pid $2) did not stop within 10 s of SIGTERM: killed"
    kill -9 "$2" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.1; done
}

stop_services() {
    local dir="$GMALL_HOME/services" name
    for entry in $SERVICES; do
        name="${entry%%:*}"
        [ -f "$dir/$name.pid" ] || continue
        if kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
            stop_pid "$name" "$(cat "$dir/$name.pid")"
            ok "$name stopped"
        fi
        rm -f "$dir/$name.pid"
    done
}


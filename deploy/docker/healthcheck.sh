#!/bin/sh
# HEALTHCHECK of the gmall image: GET the service's internal /health/live (the process answers;
# readiness, with every dependency, is /health/ready and is Kubernetes' business).
# The URL: GMALL_HEALTH_URL if set; else the internal port GMALL_INTERNAL_PORT, or GMALL_HTTP_PORT
# + 1000; else the simulator's (ALIPAY_SIM_PORT: one public port only); else the default port of
# the service that PID 1 is. A container running something else (gmall-jwt, gmall-make-keys) has
# nothing to check: healthy.
set -eu
if [ -n "${GMALL_HEALTH_URL:-}" ]; then
    url="$GMALL_HEALTH_URL"
elif [ -n "${GMALL_INTERNAL_PORT:-}" ]; then
    url="http://127.0.0.1:$GMALL_INTERNAL_PORT/health/live"
elif [ -n "${GMALL_HTTP_PORT:-}" ]; then
    url="http://127.0.0.1:$((GMALL_HTTP_PORT + 1000))/health/live"
elif [ -n "${ALIPAY_SIM_PORT:-}" ]; then
    url="http://127.0.0.1:$ALIPAY_SIM_PORT/alipay-sim/health"
else
    case "$(cat /proc/1/comm 2>/dev/null || true)" in   # comm is cut at 15 bytes
        payment) url="http://127.0.0.1:19092/health/live" ;;
        oms) url="http://127.0.0.1:19091/health/live" ;;
        wms) url="http://127.0.0.1:19093/health/live" ;;
        seckill) url="http://127.0.0.1:19094/health/live" ;;
        alipay-simulato*) url="http://127.0.0.1:18095/alipay-sim/health" ;;
        *) exit 0 ;;
    esac
fi
exec curl -fsS -o /dev/null --max-time 2 "$url"

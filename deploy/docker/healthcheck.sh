#!/bin/sh
# HEALTHCHECK of the gmall image: GET the service's internal /health/live (the process answers;
# readiness, with every dependency, is /health/ready and is Kubernetes' business).
# The port: GMALL_HEALTH_URL if set; else GMALL_INTERNAL_PORT; else GMALL_HTTP_PORT + 1000; else
# the default of the service that PID 1 is. The Alipay simulator has one (public) port only.
# A container running something else (gmall-jwt, gmall-make-keys) has nothing to check: healthy.
set -eu
name="$(cat /proc/1/comm 2>/dev/null || echo unknown)"
if [ -n "${GMALL_HEALTH_URL:-}" ]; then
    url="$GMALL_HEALTH_URL"
elif [ "$name" = alipay-simulato ] || [ "$name" = alipay-simulator ]; then   # comm is cut at 15 bytes
    url="http://127.0.0.1:${ALIPAY_SIM_PORT:-18095}/alipay-sim/health"
else
    case "$name" in
        payment) default=18092 ;;
        oms) default=18091 ;;
        wms) default=18093 ;;
        seckill) default=18094 ;;
        *) exit 0 ;;
    esac
    port="${GMALL_INTERNAL_PORT:-$(( ${GMALL_HTTP_PORT:-$default} + 1000 ))}"
    url="http://127.0.0.1:$port/health/live"
fi
exec curl -fsS -o /dev/null --max-time 2 "$url"

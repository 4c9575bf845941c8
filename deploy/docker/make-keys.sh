#!/bin/sh
# Makes every dev key the suite needs in $GMALL_KEYS (default /app/keys), each only when missing:
# RSA-2048 pairs for the merchant (payment signs with it, the simulator checks), "alipay" (the
# Alipay simulator signs notifies and query answers, payment checks) and the JWT issuer (buyers'
# logins; gmall-jwt signs, the services check), the service key (HMAC of service-to-service calls)
# and the operator's admin token. docker-compose.yml runs it once as the `keys` service, into the
# `keys` volume every other service mounts. DEV KEYS ONLY: never use them with the real Alipay.
set -eu
dir="${GMALL_KEYS:-/app/keys}"
mkdir -p "$dir"
umask 077
made=""
for name in merchant alipay jwt; do
    if [ ! -s "$dir/${name}_private.pem" ]; then
        openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/${name}_private.pem.tmp" 2>/dev/null
        mv "$dir/${name}_private.pem.tmp" "$dir/${name}_private.pem"
        rm -f "$dir/${name}_public.pem"
        made="$made ${name}_private.pem"
    fi
    if [ ! -s "$dir/${name}_public.pem" ]; then
        openssl pkey -in "$dir/${name}_private.pem" -pubout -out "$dir/${name}_public.pem" 2>/dev/null
        made="$made ${name}_public.pem"
    fi
done
if [ ! -s "$dir/service.key" ]; then
    openssl rand -hex 32 >"$dir/service.key"
    made="$made service.key"
fi
if [ ! -s "$dir/admin-token" ]; then
    # No newline: Kubernetes hands a Secret's bytes to GMALL_ADMIN_TOKEN as they are.
    printf '%s' "$(openssl rand -hex 16)" >"$dir/admin-token"
    made="$made admin-token"
fi
echo "keys in $dir:${made:- all present}"

#!/bin/sh
# compose.yaml's nginx command: keep nginx's `digits` upstream group equal to the running
# replicas of the `digits` service, then run nginx.
#
# The engine's DNS answers `digits` with one address per running replica, but nginx looks an
# upstream's names up only when it loads its configuration: a replica restarted by its policy
# comes back at a new address and would never get traffic again, and nginx would not start
# before every replica exists. Asking the DNS on every request instead (a `resolver` and a
# variable in proxy_pass) puts it on every request's path, and podman's aardvark-dns 1.4 drops
# queries whenever a container starts or stops. So this loop looks the name up once a second
# and, when the addresses change, rewrites the group and reloads nginx, gracefully: requests
# in flight finish on the old workers. A failed lookup leaves the group as it was.
set -eu
GROUP=/etc/nginx/conf.d/upstream.conf

addresses() {  # the replicas' addresses, sorted, on one line; fails when the lookup fails
    # a lost query is given up after 1 s (glibc's default is 5 s, then the next server), and
    # asked again a second later
    found=$(RES_OPTIONS="timeout:1 attempts:1" getent ahostsv4 digits) || return 1
    echo "$found" | awk '{print $1}' | sort -u | tr '\n' ' '
}

write_group() {  # the `digits` group for the addresses in $1 (none: a 502 until one is up)
    {
        echo "upstream digits {"
        # a replica that failed is left alone for 3 s (nginx's default: 10 s), so one restarted
        # by its policy at the same address takes traffic again soon after it is up
        for address in $1; do echo "    server $address:8000 fail_timeout=3s;"; done
        [ -n "$1" ] || echo "    server 127.0.0.1:8000 down;  # no replica is running yet"
        echo "}"
    } > "$GROUP.new"
    mv "$GROUP.new" "$GROUP"
}

current=$(addresses || true)
write_group "$current"
(
    while sleep 1; do
        found=$(addresses) || continue
        if [ "$found" != "$current" ]; then
            write_group "$found"
            nginx -s reload 2>/dev/null && current=$found
        fi
    done
) &
exec nginx -g 'daemon off;'

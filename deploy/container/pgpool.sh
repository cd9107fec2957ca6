#!/bin/sh
# TicketNest Pgpool-II in a container (deploy/compose.yaml; not run by the tests here).
set -eu
# The PCP password (pcp_attach_node after a node is rejoined) from the compose secret; the
# clients' passwords from pool_passwd beside pgpool.conf (cluster-secrets.mjs poolPasswd).
PCP_PASSWORD_FILE="${PCP_PASSWORD_FILE:-/run/secrets/pcp-password}"
[ -r "$PCP_PASSWORD_FILE" ] || { echo "cannot read $PCP_PASSWORD_FILE (the pcp-password secret)" >&2; exit 1; }
mkdir -p /var/lib/pgpool /var/run/postgresql
umask 077
echo "pcp:$(tr -d '\n' <"$PCP_PASSWORD_FILE" | md5sum | cut -d' ' -f1)" >/var/lib/pgpool/pcp.conf
exec pgpool -n -f /etc/ticketnest/pgpool.conf -F /var/lib/pgpool/pcp.conf -a /etc/ticketnest/pool_hba.conf

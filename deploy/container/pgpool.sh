#!/bin/sh
# TicketNest Pgpool-II in a container (deploy/compose.yaml; not run by the tests here).
set -eu
: "${PCP_PASSWORD:?PCP_PASSWORD is required (pcp_attach_node after a node is rejoined)}"
mkdir -p /var/lib/pgpool /var/run/postgresql
echo "pcp:$(printf %s "$PCP_PASSWORD" | md5sum | cut -d' ' -f1)" >/var/lib/pgpool/pcp.conf
exec pgpool -n -f /etc/ticketnest/pgpool.conf -F /var/lib/pgpool/pcp.conf -a /etc/ticketnest/pool_hba.conf

#!/bin/sh
# TicketNest PostgreSQL node in a container (deploy/compose.yaml; not run by the tests here).
# As `npm run cluster:up` does on one host: node 1 starts as the primary and registers with
# repmgr; the others clone from it, start as standbys and register; then repmgrd watches.
# Restarted, a node starts from its data; an old primary (its data not a standby's while
# another node is primary) starts read-only and without repmgrd, as cluster.mjs fences it on
# one host, until it is rejoined from inside its container:
#   repmgr -f /etc/ticketnest/repmgr-N.conf node rejoin -d 'host=<new primary> user=repmgr dbname=repmgr' --force-rewind
set -eu
: "${NODE_ID:?NODE_ID (1, 2, 3) is required}"
CONF="/etc/ticketnest/repmgr-${NODE_ID}.conf"
DATA=/var/lib/postgresql/data
BIN=/usr/lib/postgresql/15/bin
PRIMARY_HOST="${PRIMARY_HOST:-postgres-1}"
LOG=/var/lib/postgresql/postgresql.log
# repmgr's, pg_rewind's and the walreceiver's passwords (repmgr.conf: passfile).
install -m 600 /etc/ticketnest/pgpass /var/lib/postgresql/.pgpass

adopt() {
  cp /etc/ticketnest/postgresql.cluster.conf "$DATA/../postgresql.cluster.conf"
  grep -q postgresql.cluster.conf "$DATA/postgresql.conf" ||
    echo "include '../postgresql.cluster.conf'" >>"$DATA/postgresql.conf"
  cp /etc/ticketnest/pg_hba.conf "$DATA/pg_hba.conf"
}

if [ ! -s "$DATA/PG_VERSION" ]; then
  if [ "$NODE_ID" = 1 ]; then
    "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256
    adopt
    # No standby yet: a synchronous commit would wait for ever.
    "$BIN/pg_ctl" -w -D "$DATA" -l "$LOG" -o "-c synchronous_standby_names=''" start
    # The roles and their passwords (as SCRAM verifiers), the databases, the grants.
    psql -X -q -U postgres -d postgres -f /etc/ticketnest/roles.sql
    repmgr -f "$CONF" primary register
    "$BIN/pg_ctl" -w -D "$DATA" -l "$LOG" -m fast restart
  else
    until "$BIN/pg_isready" -q -h "$PRIMARY_HOST" -U repmgr -d repmgr; do sleep 1; done
    repmgr -f "$CONF" -h "$PRIMARY_HOST" -U repmgr -d repmgr standby clone
    adopt
    "$BIN/pg_ctl" -w -D "$DATA" -l "$LOG" start
    repmgr -f "$CONF" standby register --force
  fi
else
  adopt
  if [ ! -f "$DATA/standby.signal" ]; then
    for peer in postgres-1 postgres-2 postgres-3; do
      [ "$peer" = "$(hostname)" ] && continue
      if [ "$(psql -h "$peer" -U repmgr -d repmgr -tAc 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ]; then
        echo "fenced: $peer is the primary; this old primary starts read-only until rejoined" >&2
        "$BIN/pg_ctl" -w -D "$DATA" -l "$LOG" \
          -o "-c default_transaction_read_only=on -c synchronous_standby_names=''" start
        exec tail -F "$LOG"
      fi
    done
  fi
  "$BIN/pg_ctl" -w -D "$DATA" -l "$LOG" start
fi
# The container lives as long as repmgrd; PostgreSQL's log goes to the container's output.
tail -F "$LOG" &
exec repmgrd -f "$CONF" --daemonize=false

#!/usr/bin/env bash
# A private RabbitMQ node for tests, the demo and benchmarks — no systemd, no shared node.
#   scripts/rabbitmq.sh install          apt-get install rabbitmq-server when it is absent
#   scripts/rabbitmq.sh start DIR PORT   start a node whose data, logs, cookie and config live in DIR,
#                                        AMQP on 127.0.0.1:PORT (user guest/guest); waits until the
#                                        port accepts connections (60 s at most)
#   scripts/rabbitmq.sh stop DIR         stop that node and wait until it is gone
#   scripts/rabbitmq.sh free-port        print a free TCP port
#   scripts/rabbitmq.sh cluster-start DIR PORT1 PORT2 PORT3
#                                        three nodes DIR/n1..n3 (AMQP on those ports) sharing one
#                                        cookie, n2 and n3 joined to n1 (join_cluster)
#   scripts/rabbitmq.sh cluster-stop DIR stop every node DIR/n*
#   scripts/rabbitmq.sh kill-node DIR    SIGKILL the node of DIR (e.g. DIR/n1): a lost machine
#   scripts/rabbitmq.sh ctl DIR ARGS…    rabbitmqctl ARGS against the node of DIR
# Several DIRs may run side by side: each gets its own node name, distribution port and cookie.
# epmd is shared by every Erlang node on the machine: it is started on demand and never killed.
set -euo pipefail

RMQ_LIB=/usr/lib/rabbitmq/bin
START_TIMEOUT=60

die() {
  echo "rabbitmq.sh: $*" >&2
  exit 1
}

installed() { [ -x "$RMQ_LIB/rabbitmq-server" ] && command -v erl >/dev/null 2>&1; }

# true when something listens on 127.0.0.1:$1
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ports are drawn below Linux's ephemeral range (32768-60999 by default): a port in that range can
# be taken at any moment by the local end of an outgoing connection, e.g. between a node's stop
# and its restart.
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$((10000 + RANDOM % 22000))
    if ! port_open "$p" && ! ss -Htan 2>/dev/null | awk '{print $4}' | grep -q ":$p\$"; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# The node is run as the rabbitmq user when we are root (it refuses files it cannot write).
# From /: Erlang's tools (rabbitmqctl) read their boot file through the working directory first and
# stop with "eacces ... start_clean.boot" when the rabbitmq user cannot enter it (a checkout under
# /root, a mkdtemp directory). Every path handed to the node is absolute.
as_rabbitmq() {
  if [ "$(id -u)" = "0" ]; then (cd / && exec runuser -u rabbitmq -- "$@"); else "$@"; fi
}

node_env() {
  local dir=$1
  echo "HOME=$dir"
  echo "RABBITMQ_NODENAME=$(cat "$dir/nodename")"
  echo "RABBITMQ_MNESIA_BASE=$dir/mnesia"
  echo "RABBITMQ_LOG_BASE=$dir/log"
  echo "RABBITMQ_PID_FILE=$dir/rabbit.pid"
  echo "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf"
  echo "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf"
  echo "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config"
  echo "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins"
  echo "RABBITMQ_PLUGINS_EXPAND_DIR=$dir/plugins-expand"
}

# rabbitmqctl against the node of DIR, with that node's cookie
ctl() {
  local dir=$1
  shift
  # shellcheck disable=SC2046
  as_rabbitmq env $(node_env "$dir") timeout 30 "$RMQ_LIB/rabbitmqctl" -n "$(cat "$dir/nodename")" "$@"
}

node_pid() {
  local dir=$1 pid
  pid=$(cat "$dir/rabbit.pid" 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

log_tail() {
  local dir=$1
  echo "--- last lines of the node's logs ($dir/log) ---" >&2
  tail -n 40 "$dir/log/startup.log" "$dir/log/"*.log 2>/dev/null >&2 || true
}

cmd_start() {
  local dir port dist node deadline
  dir=${1:?usage: start DIR PORT}
  port=${2:?usage: start DIR PORT}
  installed || die "rabbitmq-server is not installed; run '$0 install' first"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if node_pid "$dir" >/dev/null && port_open "$port"; then return 0; fi # already running
  port_open "$port" && die "port $port is already in use"

  mkdir -p "$dir/mnesia" "$dir/log" "$dir/plugins-expand"
  # one node name per DIR, stable across restarts so the data in mnesia/ is found again
  [ -s "$dir/nodename" ] || echo "itemsync-$(echo -n "$dir" | md5sum | cut -c1-12)@localhost" >"$dir/nodename"
  [ -s "$dir/.erlang.cookie" ] || head -c 24 /dev/urandom | md5sum | cut -c1-20 >"$dir/.erlang.cookie"
  chmod 400 "$dir/.erlang.cookie"
  echo "[]." >"$dir/enabled_plugins"
  : >"$dir/rabbitmq-env.conf"
  echo "[]." >"$dir/advanced.config"
  cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$port
# CI disks are small: do not block publishers on the default 50 MB free-disk alarm
disk_free_limit.absolute = 5MB
log.console = false
log.file.level = warning
EOF
  # cluster-start's settings (peer discovery), kept across restarts of the node
  if [ -s "$dir/cluster.conf" ]; then cat "$dir/cluster.conf" >>"$dir/rabbitmq.conf"; fi
  dist=$(free_port)
  while [ "$dist" = "$port" ]; do dist=$(free_port); done
  rm -f "$dir/rabbit.pid"
  if [ "$(id -u)" = "0" ]; then chown -R rabbitmq:rabbitmq "$dir"; fi

  # setsid + every descriptor redirected: the node outlives this script and holds no pipe of the caller
  # shellcheck disable=SC2046
  as_rabbitmq env $(node_env "$dir") RABBITMQ_NODE_PORT="$port" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_DIST_PORT="$dist" setsid "$RMQ_LIB/rabbitmq-server" \
    </dev/null >"$dir/log/startup.log" 2>&1 &
  echo $! >"$dir/launcher.pid"

  deadline=$((SECONDS + START_TIMEOUT))
  until port_open "$port"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "rabbitmq.sh: node in $dir did not open port $port within ${START_TIMEOUT}s" >&2
      log_tail "$dir"
      cmd_stop "$dir" || true
      exit 1
    fi
    if ! kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null; then
      echo "rabbitmq.sh: node in $dir exited during start-up" >&2
      log_tail "$dir"
      exit 1
    fi
    sleep 0.25
  done
}

cmd_stop() {
  local dir pid deadline
  dir=${1:?usage: stop DIR}
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  [ -s "$dir/nodename" ] || return 0
  pid=$(node_pid "$dir" || true)
  [ -z "$pid" ] && pid=$(cat "$dir/launcher.pid" 2>/dev/null || true)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then return 0; fi
  # `stop PIDFILE` returns once the Erlang VM has exited
  ctl "$dir" stop "$dir/rabbit.pid" >/dev/null 2>&1 || true
  kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$dir/rabbit.pid" "$dir/launcher.pid"
}

cmd_cluster_start() {
  local dir=${1:?usage: cluster-start DIR PORT1 PORT2 PORT3} cookie i j first
  shift
  [ "$#" -eq 3 ] || die "usage: cluster-start DIR PORT1 PORT2 PORT3"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir" # the nodes run as the rabbitmq user: they must reach their folders inside
  # one Erlang cookie for every node (nodes with different cookies cannot talk), node names known
  # in advance so that each node's configuration lists the others
  cookie=$(head -c 24 /dev/urandom | md5sum | cut -c1-20)
  for i in 1 2 3; do
    mkdir -p "$dir/n$i"
    [ -s "$dir/n$i/nodename" ] || echo "itemsync-$(echo -n "$dir/n$i" | md5sum | cut -c1-12)@localhost" >"$dir/n$i/nodename"
    if [ ! -s "$dir/n$i/.erlang.cookie" ]; then
      echo "$cookie" >"$dir/n$i/.erlang.cookie"
      chmod 400 "$dir/n$i/.erlang.cookie"
    fi
  done
  # Peer discovery from a fixed node list (classic_config): a node booting for the first time
  # joins the cluster of the nodes it finds, as `join_cluster` would, without the
  # stop_app/join_cluster/start_app cycle that doubles the start-up time. n1 boots first and
  # forms the cluster; n2 and n3 then boot in parallel and join it.
  for i in 1 2 3; do
    {
      echo "cluster_formation.peer_discovery_backend = classic_config"
      for j in 1 2 3; do echo "cluster_formation.classic_config.nodes.$j = $(cat "$dir/n$j/nodename")"; done
      echo "cluster_formation.randomized_startup_delay_range.min = 0"
      echo "cluster_formation.randomized_startup_delay_range.max = 0"
    } >"$dir/n$i/cluster.conf"
  done
  local ports=("$@") pids=()
  cmd_start "$dir/n1" "${ports[0]}"
  for i in 2 3; do
    cmd_start "$dir/n$i" "${ports[$((i - 1))]}" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || die "a node of the cluster in $dir did not start"; done
  first=$(cat "$dir/n1/nodename")
  ctl "$dir/n1" await_online_nodes 3 >/dev/null || die "the nodes in $dir did not form one cluster"
  for i in 2 3; do
    ctl "$dir/n$i" cluster_status 2>/dev/null | grep -q "$first" || die "node n$i did not join $first"
  done
}

cmd_cluster_stop() {
  local dir=${1:?usage: cluster-stop DIR} n
  [ -d "$dir" ] || return 0
  for n in "$dir"/n*; do cmd_stop "$n" & done
  wait
}

cmd_kill_node() {
  local dir=${1:?usage: kill-node DIR} pid
  dir=$(cd "$dir" && pwd)
  pid=$(node_pid "$dir") || die "no node running in $dir"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

case "${1:-}" in
  cluster-start) shift; cmd_cluster_start "$@" ;;
  cluster-stop) cmd_cluster_stop "${2:-}" ;;
  kill-node) cmd_kill_node "${2:-}" ;;
  ctl)
    dir=${2:?usage: ctl DIR ARGS…}
    shift 2
    ctl "$(cd "$dir" && pwd)" "$@"
    ;;
  install)
    if ! installed; then
      echo "installing rabbitmq-server (apt)…" >&2
      out=$(mktemp)
      apt-get update -qq >"$out" 2>&1 || { tail -n 20 "$out" >&2; die "apt-get update failed"; }
      # RUNLEVEL=1: do not start the package's system node; ours are private
      RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >"$out" 2>&1 ||
        { tail -n 20 "$out" >&2; rm -f "$out"; die "apt-get install rabbitmq-server failed"; }
      rm -f "$out"
    fi
    installed || die "rabbitmq-server not found after install"
    ;;
  start) cmd_start "${2:-}" "${3:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  free-port) free_port ;;
  *)
    echo "usage: $0 install | start DIR PORT | stop DIR | free-port | cluster-start DIR P1 P2 P3 | cluster-stop DIR | kill-node DIR | ctl DIR ARGS…" >&2
    exit 2
    ;;
esac

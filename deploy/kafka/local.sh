#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft: broker + controller) on 127.0.0.1, from Maven Central jars.
#
#   deploy/kafka/local.sh start|stop|status|restart|libs
#
# `libs` prints the folder of the jars (fetching them if needed): the kafka-clients jar there
# runs the Java producer of the foreign-client tests.
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_DATA_DIR
# (~/.cache/billing-meter/kafka-data), KAFKA_VERSION (4.0.1), KAFKA_PARTITIONS (6).
# The jars are fetched with Maven (org.apache.kafka:kafka_2.13 and its runtime dependencies,
# cached in ~/.m2) into a folder named after the dependency set (KAFKA_LIB_DIR to choose one):
# a changed set is fetched afresh, and a broker running from the old jars keeps them.
# `start` returns once its own broker (the pid file's java, listening on the port) answers
# the Admin API; it fails if another process holds the port. Idempotent. The broker logs
# through log4j2 (slf4j-api 1.7 as Kafka resolves it, with its log4j binding) to kafka.log.
set -euo pipefail

KAFKA_VERSION=${KAFKA_VERSION:-4.0.1}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-$HOME/.cache/billing-meter/kafka-data}
KAFKA_PARTITIONS=${KAFKA_PARTITIONS:-6}
# Kafka resolves slf4j-api 1.7.36: its log4j2 binding is log4j-slf4j-impl (the slf4j2 one
# leaves 1.7 without a binder, and the broker's lines were lost).
DEPS="org.apache.kafka:kafka_2.13:$KAFKA_VERSION org.apache.logging.log4j:log4j-slf4j-impl:2.24.3"
DEPS_ID=$(echo "$DEPS" | sha256sum | cut -c1-12)
LIB_DIR=${KAFKA_LIB_DIR:-$HOME/.cache/billing-meter/kafka-$KAFKA_VERSION/libs-$DEPS_ID}
PID_FILE=$KAFKA_DATA_DIR/kafka.pid
LOG_FILE=$KAFKA_DATA_DIR/kafka.log
CONFIG=$KAFKA_DATA_DIR/server.properties

log() { echo "kafka: $*" >&2; }

fetch_jars() {
  # the marker names the dependency set the folder was filled with, once complete
  [ "$(cat "$LIB_DIR/.deps" 2>/dev/null)" = "$DEPS" ] && return 0
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch the Kafka jars"; exit 1; }
  local pom_dir; pom_dir=$(mktemp -d)
  local dep group artifact version entries=""
  for dep in $DEPS; do
    IFS=: read -r group artifact version <<<"$dep"
    entries+="<dependency><groupId>$group</groupId><artifactId>$artifact</artifactId>"
    entries+="<version>$version</version></dependency>"
  done
  cat > "$pom_dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.billing-meter</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>$entries</dependencies>
</project>
POM
  log "fetching $DEPS and their runtime dependencies with Maven into $LIB_DIR"
  rm -rf "$LIB_DIR"; mkdir -p "$LIB_DIR"
  mvn -q -B -f "$pom_dir/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIB_DIR" -DincludeScope=runtime >&2
  rm -rf "$pom_dir"
  echo "$DEPS" > "$LIB_DIR/.deps"
}

write_config() {
  mkdir -p "$KAFKA_DATA_DIR"
  cat > "$CONFIG" <<CFG
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA_DIR/logs
num.partitions=$KAFKA_PARTITIONS
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
CFG
  # properties, not YAML: log4j2 reads YAML only with jackson-dataformat-yaml on the path
  cat > "$KAFKA_DATA_DIR/log4j2.properties" <<'L4J'
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = STDOUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = INFO
L4J
}

java_cmd() { java -Xmx512m -Dlog4j2.configurationFile="$KAFKA_DATA_DIR/log4j2.properties" -cp "$LIB_DIR/*" "$@"; }

running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

# The pid listening on the port ("" if none; "?" if something answers but ss is missing).
port_pid() {
  if command -v ss >/dev/null; then
    local line pid; line=$(ss -Hltnp "sport = :$KAFKA_PORT" 2>/dev/null | head -1)
    [ -n "$line" ] || return 0
    pid=$(grep -o 'pid=[0-9]*' <<<"$line" | head -1 | cut -d= -f2)
    echo "${pid:-?}"  # another user's process: ss may not show its pid
  elif (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; then
    echo "?"
  fi
}

# Its own broker holds the port: the pid file's java is alive and is the one listening.
owns_port() { running && [ "$(port_pid)" = "$(cat "$PID_FILE")" ]; }

held_by_other() {
  local pid; pid=$(port_pid)
  [ -n "$pid" ] && ! { running && [ "$pid" = "$(cat "$PID_FILE")" ]; }
}

describe_holder() {
  local pid; pid=$(port_pid)
  local what="pid $pid"
  [ "$pid" != "?" ] && what+=": $(ps -o args= -p "$pid" 2>/dev/null | cut -c1-80)"
  echo "127.0.0.1:$KAFKA_PORT is held by another process ($what), not the broker of $KAFKA_DATA_DIR"
}

# The classpath of the running broker: a broker started before the dependency set changed
# is checked with its own jars (the new set's folder may not be fetched yet).
broker_cp() {
  local cp=""
  running && cp=$(tr '\0' '\n' <"/proc/$(cat "$PID_FILE")/cmdline" 2>/dev/null | grep -A1 -x -- -cp | tail -1)
  echo "${cp:-$LIB_DIR/*}"
}

ready() {
  java -Xmx512m -Dlog4j2.configurationFile="$KAFKA_DATA_DIR/log4j2.properties" -cp "$(broker_cp)" \
    kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
    --describe --entity-type brokers --entity-name 1 >/dev/null 2>&1
}

start() {
  if owns_port && ready; then log "already running on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  if held_by_other; then
    log "$(describe_holder); stop it, or set KAFKA_PORT and KAFKA_DATA_DIR"; exit 1
  fi
  fetch_jars
  write_config
  if [ ! -f "$KAFKA_DATA_DIR/logs/meta.properties" ]; then
    java_cmd kafka.tools.StorageTool format -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
      -c "$CONFIG" >&2
  fi
  nohup java -Xmx1g -Dlog4j2.configurationFile="$KAFKA_DATA_DIR/log4j2.properties" -cp "$LIB_DIR/*" \
    kafka.Kafka "$CONFIG" >>"$LOG_FILE" 2>&1 &
  echo $! > "$PID_FILE"
  for _ in $(seq 1 60); do
    if ! running; then log "broker exited; see $LOG_FILE"; tail -20 "$LOG_FILE" >&2; exit 1; fi
    if owns_port && ready; then
      log "ready on 127.0.0.1:$KAFKA_PORT (pid $(cat "$PID_FILE"), log $LOG_FILE)"; return 0
    fi
    sleep 1
  done
  log "not ready after 60 s; see $LOG_FILE"; exit 1
}

stop() {
  if ! running; then log "not running"; rm -f "$PID_FILE"; return 0; fi
  local pid; pid=$(cat "$PID_FILE")
  kill "$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || { rm -f "$PID_FILE"; log "stopped"; return 0; }; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$PID_FILE"; log "killed"
}

status() {
  if owns_port && ready; then log "running and ready on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  if held_by_other; then log "not running; $(describe_holder)"; return 4; fi
  if running; then log "process up, not answering yet"; return 1; fi
  log "not running"; return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  libs) fetch_jars; echo "$LIB_DIR" ;;
  *) echo "usage: $0 start|stop|status|restart|libs" >&2; exit 2 ;;
esac

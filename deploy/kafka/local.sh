#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft: broker + controller) on 127.0.0.1, from Maven Central jars.
#
#   deploy/kafka/local.sh start|stop|status|restart
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_DATA_DIR
# (~/.cache/billing-meter/kafka-data), KAFKA_VERSION (4.0.1), KAFKA_PARTITIONS (6).
# The jars are fetched with Maven (org.apache.kafka:kafka_2.13 and its runtime dependencies,
# cached in ~/.m2). `start` returns once the broker answers the Admin API. Idempotent.
set -euo pipefail

KAFKA_VERSION=${KAFKA_VERSION:-4.0.1}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-$HOME/.cache/billing-meter/kafka-data}
KAFKA_PARTITIONS=${KAFKA_PARTITIONS:-6}
LIB_DIR=${KAFKA_LIB_DIR:-$HOME/.cache/billing-meter/kafka-$KAFKA_VERSION/libs}
PID_FILE=$KAFKA_DATA_DIR/kafka.pid
LOG_FILE=$KAFKA_DATA_DIR/kafka.log
CONFIG=$KAFKA_DATA_DIR/server.properties

log() { echo "kafka: $*" >&2; }

fetch_jars() {
  [ -f "$LIB_DIR/kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch the Kafka jars"; exit 1; }
  local pom_dir; pom_dir=$(dirname "$LIB_DIR")
  mkdir -p "$pom_dir"
  cat > "$pom_dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.billing-meter</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId>
      <version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
  log "fetching kafka_2.13:$KAFKA_VERSION and its runtime dependencies with Maven"
  mvn -q -B -f "$pom_dir/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIB_DIR" -DincludeScope=runtime >&2
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
  cat > "$KAFKA_DATA_DIR/log4j2.yaml" <<'L4J'
Configuration:
  Appenders:
    Console: {name: STDOUT, PatternLayout: {pattern: "[%d] %p %m (%c)%n"}}
  Loggers:
    Root: {level: WARN, AppenderRef: [{ref: STDOUT}]}
    Logger: [{name: kafka.server.KafkaRaftServer, level: INFO}]
L4J
}

java_cmd() { java -Xmx512m -Dlog4j2.configurationFile="$KAFKA_DATA_DIR/log4j2.yaml" -cp "$LIB_DIR/*" "$@"; }

running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

ready() {
  java_cmd kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
    --describe --entity-type brokers --entity-name 1 >/dev/null 2>&1
}

start() {
  if running && ready; then log "already running on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  fetch_jars
  write_config
  if [ ! -f "$KAFKA_DATA_DIR/logs/meta.properties" ]; then
    java_cmd kafka.tools.StorageTool format -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
      -c "$CONFIG" >&2
  fi
  nohup java -Xmx1g -Dlog4j2.configurationFile="$KAFKA_DATA_DIR/log4j2.yaml" -cp "$LIB_DIR/*" \
    kafka.Kafka "$CONFIG" >>"$LOG_FILE" 2>&1 &
  echo $! > "$PID_FILE"
  for _ in $(seq 1 60); do
    if ! running; then log "broker exited; see $LOG_FILE"; tail -20 "$LOG_FILE" >&2; exit 1; fi
    if ready; then log "ready on 127.0.0.1:$KAFKA_PORT (pid $(cat "$PID_FILE"), log $LOG_FILE)"; return 0; fi
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
  if running && ready; then log "running and ready on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  if running; then log "process up, not answering yet"; return 1; fi
  log "not running"; return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  *) echo "usage: $0 start|stop|status|restart" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# As the distribution's kafka-server-start.sh: a 1 GB heap unless KAFKA_HEAP_OPTS says otherwise,
# the broker's log configuration, then kafka.Kafka with the given server.properties.
base_dir=$(cd "$(dirname "$0")/.." && pwd)
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}
export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/config/log4j2.yaml}
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"

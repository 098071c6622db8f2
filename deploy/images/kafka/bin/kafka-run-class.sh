#!/usr/bin/env bash
# Runs a Kafka main class on libs/, as the distribution's script of the same name does, with the
# environment it reads: KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_OPTS, KAFKA_LOG4J_OPTS.
set -euo pipefail
base_dir=$(cd "$(dirname "$0")/.." && pwd)
(($# >= 1)) || {
    echo "USAGE: $0 classname [opts]" >&2
    exit 1
}
main=$1
shift
log4j=${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml}
# shellcheck disable=SC2086 # word lists by design
exec java ${KAFKA_HEAP_OPTS:--Xmx256M} \
    ${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true} \
    $log4j ${KAFKA_OPTS:-} -cp "$base_dir/libs/*" "$main" "$@"

#!/usr/bin/env bash
# Runs a JobManager or TaskManager in the foreground, sized as Flink's own launcher scripts size
# it: BashJavaUtils turns the configured process memory into JVM options and dynamic properties.
set -euo pipefail

kind=$1
shift
case $kind in
jobmanager) main=org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint sizing=JM ;;
taskmanager) main=org.apache.flink.runtime.taskexecutor.TaskManagerRunner sizing=TM ;;
*)
    echo "flink-console.sh: unknown process '$kind' (jobmanager or taskmanager)" >&2
    exit 2
    ;;
esac

CONF_DIR=$FLINK_HOME/conf
CLASSPATH="$FLINK_HOME/lib/*"
# shellcheck source=java-options.sh
. "$FLINK_HOME/bin/java-options.sh"

params=$(java -cp "$CLASSPATH" org.apache.flink.runtime.util.bash.BashJavaUtils \
    "GET_${sizing}_RESOURCE_PARAMS" --configDir "$CONF_DIR" 2>"$FLINK_HOME/log/$kind-sizing.err" |
    sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p') || true
jvm_options=$(sed -n 1p <<<"$params")
dynamic_properties=$(sed -n 2p <<<"$params")
if [[ -z $jvm_options ]]; then
    cat "$FLINK_HOME/log/$kind-sizing.err" >&2
    echo "flink-console.sh: Flink cannot size the $kind from conf/config.yaml (above)" >&2
    exit 1
fi

# shellcheck disable=SC2086 # word lists by design
exec java "${JAVA_MODULE_OPTIONS[@]}" $jvm_options ${FLINK_ENV_JAVA_OPTS:-} \
    -Dlog.file="$FLINK_HOME/log/flink-$kind-$(hostname).log" \
    -Dlog4j.configurationFile="file:$CONF_DIR/log4j-console.properties" \
    -cp "$CLASSPATH" "$main" --configDir "$CONF_DIR" $dynamic_properties "$@"

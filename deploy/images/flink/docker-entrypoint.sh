#!/usr/bin/env bash
# The entrypoint contract of the official flink image, as Sift's compose file uses it:
#   jobmanager | taskmanager        start that process in the foreground
#   help                            usage
#   anything else                   run as a command (e.g. `flink run ...`), like the official one
# Before any of these, the configuration is prepared as the official image does: the JobManager
# address (JOB_MANAGER_RPC_ADDRESS, else this container's host name), the blob and queryable-state
# ports, TASK_MANAGER_NUMBER_OF_TASK_SLOTS, then every "key: value" line of FLINK_PROPERTIES,
# written into conf/config.yaml by Flink's own configuration loader (BashJavaUtils).
set -euo pipefail

CONF_DIR=$FLINK_HOME/conf

# Root drops to the flink user, as the official image does with gosu.
as_flink() {
    if [[ $(id -u) == 0 ]]; then
        exec setpriv --reuid=flink --regid=flink --init-groups "$@"
    fi
    exec "$@"
}

set_config_options() {
    (($# > 0)) || return 0
    local options=() result
    while (($# > 0)); do
        options+=("-D$1=$2")
        shift 2
    done
    result=$(java -cp "$FLINK_HOME/lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils \
        UPDATE_AND_GET_FLINK_CONFIGURATION --configDir "$CONF_DIR" "${options[@]}" -flatten \
        2>/tmp/flink-config.err) || {
        cat /tmp/flink-config.err >&2
        echo "docker-entrypoint: Flink refused the configuration above" >&2
        exit 1
    }
    sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' <<<"$result" >"$CONF_DIR/config.yaml.new"
    mv "$CONF_DIR/config.yaml.new" "$CONF_DIR/config.yaml"
}

# Like the official image: whitespace is removed from each line, the key ends at the first colon.
# Unlike it, values are taken literally (no envsubst).
flink_properties() {
    local line key value options=()
    while IFS= read -r line; do
        line=${line//[[:space:]]/}
        [[ -n $line ]] || continue
        IFS=':' read -r key value <<<"$line"
        options+=("$key" "$value")
    done <<<"$1"
    set_config_options "${options[@]}"
}

prepare_configuration() {
    local options=(
        jobmanager.rpc.address "${JOB_MANAGER_RPC_ADDRESS:-$(hostname -f)}"
        blob.server.port 6124
        query.server.port 6125
    )
    if [[ -n ${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-} ]]; then
        options+=(taskmanager.numberOfTaskSlots "$TASK_MANAGER_NUMBER_OF_TASK_SLOTS")
    fi
    set_config_options "${options[@]}"
    if [[ -n ${FLINK_PROPERTIES:-} ]]; then
        flink_properties "$FLINK_PROPERTIES"
    fi
}

if [[ ${1:-help} == help ]]; then
    echo "Usage: $(basename "$0") (jobmanager|taskmanager|COMMAND...)"
    echo "A local stand-in for the official flink image; see deploy/images/README.md."
    exit 0
fi

prepare_configuration

case $1 in
jobmanager)
    shift
    echo "Starting Job Manager"
    as_flink "$FLINK_HOME/bin/flink-console.sh" jobmanager "$@"
    ;;
taskmanager)
    shift
    echo "Starting Task Manager"
    as_flink "$FLINK_HOME/bin/flink-console.sh" taskmanager "$@"
    ;;
standalone-job | history-server)
    echo "docker-entrypoint: '$1' is not reproduced by this local image (Sift's files use" \
        "jobmanager, taskmanager and commands); use the official flink image" >&2
    exit 2
    ;;
*)
    as_flink "$@"
    ;;
esac

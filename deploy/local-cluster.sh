#!/usr/bin/env bash
#
# A real Flink session cluster on loopback, without Docker: one JobManager and two TaskManagers as
# separate JVMs, on the Flink jars that Maven resolved into deploy/target/flink/lib plus Sift's
# cluster libs in deploy/target/flink/sift-lib. Build those first:
#
#   mvn -q -pl deploy -am package -DskipTests
#
# then:
#
#   deploy/local-cluster.sh start
#   deploy/local-cluster.sh submit --sift.kafka.bootstrap-servers=localhost:9092 \
#       --sift.registry="$PWD/registry"
#       (the job checks its four topics before it is submitted: on a fresh broker add
#       --sift.topics.create-missing=true, or create them with the commands its message prints)
#   deploy/local-cluster.sh stop-job <job-id>        # stop with a savepoint; prints its path
#   deploy/local-cluster.sh resume <savepoint> <the job's arguments again>
#   deploy/local-cluster.sh add-taskmanager        # one more TaskManager, e.g. after one died
#   deploy/local-cluster.sh stop
#
# Environment:
#   SIFT_CLUSTER_DIR    configuration, logs, pids, checkpoints, savepoints (deploy/target/cluster)
#   SIFT_REST_PORT      the REST API and dashboard port (8081)
#   SIFT_TASK_MANAGERS  how many TaskManagers to start (2)
#   SIFT_FLINK_CONF     extra lines for config.yaml, appended last so they win (none)
#   SIFT_FLINK_DIST     the folder with lib/, sift-lib/ and job/ (deploy/target/flink)
#   SIFT_RUN_OPTIONS    extra options for `flink run` on submit and resume, e.g.
#                       "-C file:///extra/classes/ -c my.Main" (none)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIST=${SIFT_FLINK_DIST:-$HERE/target/flink}
WORK=${SIFT_CLUSTER_DIR:-$HERE/target/cluster}
REST_PORT=${SIFT_REST_PORT:-8081}
TASK_MANAGERS=${SIFT_TASK_MANAGERS:-2}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
CONF=$WORK/conf
# What Flink's own distribution passes every JVM on Java 17: Flink and Kryo reach into these
# packages by reflection (the client fails without java.util, for one).
JAVA_MODULE_OPTIONS=(
    --add-exports=java.base/sun.net.util=ALL-UNNAMED
    --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.text=ALL-UNNAMED
    --add-opens=java.base/java.time=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)
# Flink looks for metric reporter and filesystem plugins here; this cluster has none.
export FLINK_PLUGINS_DIR=$WORK/plugins

usage() {
    sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    echo "Commands: start | submit ARGS... | stop-job JOB_ID | resume SAVEPOINT ARGS..." \
        "| add-taskmanager | list | stop"
}

die() {
    echo "local-cluster: $*" >&2
    exit 1
}

check_dist() {
    for folder in lib sift-lib job; do
        [[ -d $DIST/$folder ]] ||
            die "$DIST/$folder is missing; build it with: mvn -q -pl deploy -am package -DskipTests"
    done
}

classpath() {
    echo "$DIST/lib/*:$DIST/sift-lib/*"
}

write_conf() {
    mkdir -p "$CONF" "$WORK/log" "$WORK/pids" "$WORK/tmp" "$WORK/plugins" \
        "$WORK/checkpoints" "$WORK/savepoints"
    local overrides
    overrides=$(
        cat <<EOF
jobmanager.rpc.address: localhost
jobmanager.bind-host: localhost
taskmanager.bind-host: localhost
taskmanager.host: localhost
rest.address: localhost
rest.bind-address: localhost
rest.port: $REST_PORT
io.tmp.dirs: $WORK/tmp
execution.checkpointing.dir: file://$WORK/checkpoints
execution.checkpointing.savepoint-dir: file://$WORK/savepoints
${SIFT_FLINK_CONF:-}
EOF
    )
    # YAML allows a key once: drop the shipped lines that an override replaces.
    local keys
    keys=$(sed -n 's/^\([A-Za-z0-9_.-]*\):.*/\1/p' <<<"$overrides" | paste -sd '|')
    {
        grep -v -E "^($keys):" "$HERE/flink/config.yaml"
        echo
        echo "# --- local-cluster.sh: this cluster's addresses and folders, then SIFT_FLINK_CONF ---"
        echo "$overrides"
    } >"$CONF/config.yaml"
    cp "$HERE/flink/log4j.properties" "$CONF/log4j.properties"
}

# Flink's own launcher scripts size the JVM with BashJavaUtils; so do we. Prints two lines: JVM
# options, then the dynamic properties that pin the derived memory sizes.
resource_params() {
    "$JAVA" -cp "$(classpath)" org.apache.flink.runtime.util.bash.BashJavaUtils \
        "GET_$1_RESOURCE_PARAMS" --configDir "$CONF" 2>"$WORK/log/$2-sizing.err" |
        sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p'
}

running() {
    local pid_file=$WORK/pids/$1.pid
    [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

launch() {
    local name=$1 main_class=$2 kind=$3
    local params jvm_options dynamic_properties
    params=$(resource_params "$kind" "$name")
    jvm_options=$(sed -n 1p <<<"$params")
    dynamic_properties=$(sed -n 2p <<<"$params")
    [[ -n $jvm_options ]] || die "cannot size the $name; see $WORK/log/$name-sizing.err"
    # shellcheck disable=SC2086 # the options are word lists by design
    nohup "$JAVA" "${JAVA_MODULE_OPTIONS[@]}" $jvm_options \
        -Dlog.file="$WORK/log/$name.log" \
        -Dlog4j.configurationFile="file:$CONF/log4j.properties" \
        -cp "$(classpath)" "$main_class" --configDir "$CONF" $dynamic_properties \
        >"$WORK/log/$name.out" 2>&1 </dev/null &
    echo $! >"$WORK/pids/$name.pid"
    echo "started $name (pid $!)"
}

# GET on the REST API with bash alone (no curl on a bare machine); prints the response body.
rest_get() {
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/localhost/$1" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" "$2" >&3
        sed "1,/^\r\{0,1\}$/d" <&3' rest_get "$REST_PORT" "$1" 2>/dev/null
}

wait_for_task_managers() {
    local deadline=$((SECONDS + 120)) overview
    while ((SECONDS < deadline)); do
        if overview=$(rest_get /overview) &&
            [[ $overview =~ \"taskmanagers\":([0-9]+) ]] &&
            ((BASH_REMATCH[1] >= TASK_MANAGERS)); then
            echo "cluster ready: $TASK_MANAGERS TaskManagers; dashboard at http://localhost:$REST_PORT"
            return 0
        fi
        running jobmanager || die "the JobManager exited; see $WORK/log/jobmanager.log"
        sleep 1
    done
    die "the cluster did not come up within 120 s; logs are in $WORK/log"
}

# Starts the next TaskManager (numbered after every one this cluster ever started) and waits
# until it has registered with the ResourceManager.
add_task_manager() {
    running jobmanager || die "no JobManager runs; run start first"
    local n=1
    while [[ -e $WORK/pids/taskmanager-$n.pid || -e $WORK/log/taskmanager-$n.log ]]; do
        n=$((n + 1))
    done
    launch "taskmanager-$n" org.apache.flink.runtime.taskexecutor.TaskManagerRunner TM
    local deadline=$((SECONDS + 120))
    while ((SECONDS < deadline)); do
        if grep -q "Successful registration at resource manager" \
            "$WORK/log/taskmanager-$n.log" 2>/dev/null; then
            echo "taskmanager-$n registered"
            return 0
        fi
        running "taskmanager-$n" || die "taskmanager-$n exited; see $WORK/log/taskmanager-$n.log"
        sleep 0.5
    done
    die "taskmanager-$n did not register within 120 s"
}

start() {
    check_dist
    if running jobmanager; then
        die "already running (pid $(cat "$WORK/pids/jobmanager.pid")); stop it first"
    fi
    write_conf
    launch jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint JM
    for ((i = 1; i <= TASK_MANAGERS; i++)); do
        launch "taskmanager-$i" org.apache.flink.runtime.taskexecutor.TaskManagerRunner TM
    done
    wait_for_task_managers
}

# Flink's own command-line client, against this cluster's configuration.
flink() {
    check_dist
    [[ -f $CONF/config.yaml ]] || die "no cluster configuration in $CONF; run start first"
    FLINK_CONF_DIR=$CONF "$JAVA" "${JAVA_MODULE_OPTIONS[@]}" \
        -Dlog4j.configurationFile="file:$CONF/log4j.properties" \
        -Dlog.file="$WORK/log/client.log" \
        -cp "$(classpath)" org.apache.flink.client.cli.CliFrontend "$@"
}

stop() {
    local name pid stopped=0
    for pid_file in "$WORK"/pids/taskmanager-*.pid "$WORK"/pids/jobmanager.pid; do
        [[ -f $pid_file ]] || continue
        name=$(basename "$pid_file" .pid)
        pid=$(cat "$pid_file")
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"
            for _ in $(seq 60); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.5
            done
            if kill -0 "$pid" 2>/dev/null; then
                echo "$name did not stop in 30 s; killing it"
                kill -KILL "$pid"
            fi
            echo "stopped $name"
            stopped=$((stopped + 1))
        fi
        rm -f "$pid_file"
    done
    ((stopped > 0)) || echo "nothing was running (cluster folder $WORK)"
}

command=${1:-}
[[ -n $command ]] || {
    usage
    exit 2
}
shift
case $command in
start) start ;;
# shellcheck disable=SC2086 # SIFT_RUN_OPTIONS is a word list by design
submit) flink run --detached ${SIFT_RUN_OPTIONS:-} "$DIST/job/sift-job.jar" "$@" ;;
stop-job)
    (($# == 1)) || die "usage: stop-job JOB_ID"
    flink stop --savepointPath "file://$WORK/savepoints" "$1"
    ;;
resume)
    (($# >= 1)) || die "usage: resume SAVEPOINT [job arguments]"
    savepoint=$1
    shift
    # shellcheck disable=SC2086
    flink run --detached --fromSavepoint "$savepoint" ${SIFT_RUN_OPTIONS:-} \
        "$DIST/job/sift-job.jar" "$@"
    ;;
add-taskmanager) add_task_manager ;;
list) flink list ;;
stop) stop ;;
-h | --help | help) usage ;;
*)
    usage >&2
    die "unknown command '$command'"
    ;;
esac

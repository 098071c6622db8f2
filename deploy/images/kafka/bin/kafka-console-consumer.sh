#!/usr/bin/env bash
# As the distribution's kafka-console-consumer.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.consumer.ConsoleConsumer "$@"

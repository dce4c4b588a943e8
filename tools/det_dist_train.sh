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
CONFIG=$1
GPUS=$2
PRETRAINED=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
HERE="$(cd "$(dirname "$0")" && pwd)"

PYTHONPATH="$HERE/..:${PYTHONPATH:-}" \
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$HERE/det_train.py" \
    "$CONFIG" \
    "$PRETRAINED" \
    --launcher pytorch "${@:4}"

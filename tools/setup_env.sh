#!/usr/bin/env bash
# Idempotent environment set-up for pirl_plugin.
#
# Creates (or reuses) a virtual environment, installs the OpenMMLab stack that
# works with a current PyTorch, builds mmcv 2.1.0 with its compiled ops from the
# source distribution (once; the wheel is cached outside the repository) and
# installs this plugin in editable mode.
#
# Environment variables (all optional):
#   PYTHON             interpreter used to create the venv (default: python3.11, then python3)
#   PIRL_VENV          virtual environment folder (default: <repo>/.venv)
#   PIRL_CACHE         cache folder for the built mmcv wheel (default: ~/.cache/pirl_plugin)
#   TORCH_VERSION      default 2.14.1;  TORCHVISION_VERSION default 0.29.1
#   TORCH_INDEX_URL    extra index for another CUDA build of torch (e.g. .../whl/cu121)
#   FORCE_CUDA=1       build mmcv's CUDA ops (automatic when nvcc and a GPU are present)
#   MAX_JOBS           parallel compile jobs for mmcv (default: number of cores)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PIRL_VENV:-$REPO/.venv}"
CACHE="${PIRL_CACHE:-$HOME/.cache/pirl_plugin}"
TORCH_VERSION="${TORCH_VERSION:-2.14.1}"
TORCHVISION_VERSION="${TORCHVISION_VERSION:-0.29.1}"
MMCV_VERSION="2.1.0"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
if [ -z "${PYTHON:-}" ]; then
  if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11
  elif command -v python3 >/dev/null 2>&1; then PYTHON=python3
  else die "no python3 found. Install Python 3.11 (with venv and headers) or set PYTHON=/path/to/python3.11."
  fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON=$PYTHON is not an executable. Point PYTHON at a Python 3.11 interpreter."
PYVER="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$PYVER" in
  3.9|3.10|3.11|3.12) ;;
  *) die "Python $PYVER found ($PYTHON); the OpenMMLab stack needs Python 3.9-3.12 (3.11 is tested). Set PYTHON=/path/to/python3.11." ;;
esac
"$PYTHON" -c 'import venv, sysconfig, os, sys; h = sysconfig.get_paths()["include"]; sys.exit(0 if os.path.exists(os.path.join(h, "Python.h")) else 1)' \
  || die "Python.h not found for $PYTHON: install the Python development headers (Debian: apt-get install python${PYVER}-dev)."

# ------------------------------------------------------------------------ venv
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV" || die "could not create the venv at $VENV (Debian: apt-get install python${PYVER}-venv)."
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check -q)

# Fast path: nothing changed since the last successful set-up.
STAMP="$VENV/.pirl_setup_stamp"
STAMP_VALUE="$(cat "$REPO/tools/setup_env.sh" "$REPO/setup.py" | sha1sum | cut -c1-16)-$TORCH_VERSION-$TORCHVISION_VERSION-${FORCE_CUDA:-auto}"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_VALUE" ] \
   && "$PY" -c 'import pirl_plugin, mmdet, mmpretrain; from mmcv.ops import nms, RoIAlign' >/dev/null 2>&1; then
  say "environment $VENV is up to date"
  exit 0
fi

# ----------------------------------------------------------------------- torch
TORCH_ARGS=()
[ -n "${TORCH_INDEX_URL:-}" ] && TORCH_ARGS+=(--extra-index-url "$TORCH_INDEX_URL")
if ! "$PY" -c "import torch, torchvision, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' and torchvision.__version__.split('+')[0] == '$TORCHVISION_VERSION' else 1)" >/dev/null 2>&1; then
  say "installing torch $TORCH_VERSION and torchvision $TORCHVISION_VERSION (a few minutes the first time)"
  "${PIP[@]}" install "${TORCH_ARGS[@]}" "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi

# ----------------------------------------------- OpenMMLab stack and other deps
# mmengine and mmcv declare opencv-python (the GUI build); we install them with
# --no-deps and list their real dependencies here with the headless OpenCV.
say "installing mmengine / mmpretrain / mmdet and their dependencies"
"${PIP[@]}" install \
  "setuptools<80" wheel ninja packaging \
  "numpy>=2" opencv-python-headless "pycocotools>=2.0.8" \
  addict pyyaml rich termcolor Pillow matplotlib scipy shapely six terminaltables tqdm \
  einops importlib-metadata mat4py modelindex scikit-learn pytest pytest-timeout
# The lint gate (tools/lint.sh, .ci/run, .pre-commit-config.yaml): MMPretrain's
# pinned versions, installed here so the check needs no network. yapf is also
# mmengine's dependency (its config pretty-printer works with 0.32).
"${PIP[@]}" install "flake8==5.0.4" "isort==5.11.5" "yapf==0.32.0" "codespell==2.2.1"
# The exact tested versions (setup.py accepts ranges around them, for
# installing into an existing OpenMMLab environment; tests/test_packaging.py
# checks that each pin lies in its range).
"${PIP[@]}" install --no-deps "mmengine==0.10.7" "mmpretrain==1.2.0" "mmdet==3.3.0"
# OpenMMLab's launcher, for `mim train mmpretrain CONFIG` (tested by
# tests/test_config_errors.py); --no-deps keeps its opencv-python and
# opendatalab out, the modules its train command imports are listed here.
"${PIP[@]}" install colorama tabulate pandas requests model-index
"${PIP[@]}" install --no-deps "openmim==0.3.9"

# ------------------------------------------------------------------- mmcv ops
if "$PY" -c "import mmcv, sys; from mmcv.ops import nms, RoIAlign; sys.exit(0 if mmcv.__version__ == '$MMCV_VERSION' else 1)" >/dev/null 2>&1; then
  say "mmcv $MMCV_VERSION with ops already installed"
else
  if [ -z "${FORCE_CUDA:-}" ]; then
    FORCE_CUDA=0
    if command -v nvcc >/dev/null 2>&1 && "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
      FORCE_CUDA=1
    fi
  fi
  TORCH_TAG="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
  if [ "$FORCE_CUDA" = "1" ]; then
    DEV_TAG="cu$("$PY" -c 'import torch; print((torch.version.cuda or "none").replace(".", ""))')"
  else
    DEV_TAG=cpu
  fi
  KEY="mmcv-$MMCV_VERSION-py${PYVER/./}-torch$TORCH_TAG-$DEV_TAG"
  WHEEL_DIR="$CACHE/wheels/$KEY"
  WHEEL="$(ls "$WHEEL_DIR"/mmcv-*.whl 2>/dev/null | head -n1 || true)"
  if [ -z "$WHEEL" ]; then
    command -v "${CC:-cc}" >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 \
      || die "no C compiler found: mmcv's ops must be compiled. Install gcc and g++ (Debian: apt-get install build-essential)."
    command -v "${CXX:-c++}" >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 \
      || die "no C++ compiler found: install g++ (Debian: apt-get install g++)."
    BUILD="$(mktemp -d)"
    LOG="$CACHE/build-$KEY.log"
    mkdir -p "$CACHE" "$WHEEL_DIR"
    say "building mmcv $MMCV_VERSION ops ($DEV_TAG) from source: about 8 minutes on 2 cores, once; log: $LOG"
    "${PIP[@]}" download --no-deps --no-binary :all: --no-build-isolation -d "$BUILD" "mmcv==$MMCV_VERSION" \
      || die "could not download the mmcv $MMCV_VERSION source distribution from PyPI."
    tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # torch >= 2.13 headers need C++20; mmcv 2.1.0 hard-codes c++14/c++17.
    sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
    if ! (cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA="$FORCE_CUDA" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
          "$PY" -m pip --disable-pip-version-check wheel --no-build-isolation --no-deps -w "$WHEEL_DIR" . >"$LOG" 2>&1); then
      tail -n 40 "$LOG" >&2
      rm -rf "$BUILD"
      die "building mmcv $MMCV_VERSION failed; the last lines are above, the whole log is $LOG."
    fi
    rm -rf "$BUILD"
    WHEEL="$(ls "$WHEEL_DIR"/mmcv-*.whl | head -n1)"
    say "cached $WHEEL"
  else
    say "reusing cached wheel $WHEEL"
  fi
  "${PIP[@]}" install --no-deps --force-reinstall "$WHEEL"
  "$PY" -c 'from mmcv.ops import nms, RoIAlign' \
    || die "mmcv installed without its compiled ops (mmcv._ext missing). Delete $WHEEL_DIR and run again."
fi

# --------------------------------------------------------------------- plugin
"${PIP[@]}" install --no-deps --no-build-isolation -e "$REPO"
"$PY" -c 'import pirl_plugin' || die "pirl_plugin does not import in $VENV."
echo "$STAMP_VALUE" > "$STAMP"
say "environment ready: $VENV"

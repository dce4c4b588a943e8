#!/usr/bin/env bash
# The lint gate, in MMPretrain's settings (setup.cfg: [flake8], [isort],
# [yapf], [codespell]); the pinned tools come from tools/setup_env.sh.
#   bash tools/lint.sh          check (exit 1 on any finding)
#   bash tools/lint.sh --fix    apply isort and yapf, then check
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PIRL_VENV:-.venv}/bin/python"
[ -x "$PY" ] || PY=python
PATHS=(pirl_plugin tools tests configs setup.py)
if [ "${1:-}" = "--fix" ]; then
  "$PY" -m isort -q "${PATHS[@]}"
  "$PY" -m yapf -i -r "${PATHS[@]}"
fi
status=0
"$PY" -m flake8 "${PATHS[@]}" || status=1
"$PY" -m isort --check-only -q "${PATHS[@]}" || status=1
if "$PY" -m yapf --diff -r "${PATHS[@]}" > /tmp/pirl_yapf.diff.$$; then :; else
  status=1
  echo "yapf: these files need formatting (bash tools/lint.sh --fix):"
  grep '^+++ ' /tmp/pirl_yapf.diff.$$ | sed 's/^+++ /  /; s/ *(reformatted)//'
fi
rm -f /tmp/pirl_yapf.diff.$$
"$PY" -m codespell_lib "${PATHS[@]}" docs README.md || status=1
if [ "$status" = 0 ]; then echo "lint: flake8, isort, yapf, codespell clean"; fi
exit "$status"

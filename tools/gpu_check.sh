#!/usr/bin/env bash
# Prove and measure mmofa on the GPU at hand, in one go (about 8 minutes on
# one H100/H200-class GPU): the CUDA tests, then the GPU benchmarks, one
# report (markdown + JSON). Installs nothing beyond the README's set-up.
#   bash tools/gpu_check.sh [OUT_DIR]            # default work_dirs/gpu_check
#   bash tools/gpu_check.sh --dry-run [OUT_DIR]  # CPU, tiny sizes (CI)
# PYTHON picks the interpreter (default: .venv/bin/python if present).
# Each part reports pass/fail and its time; a failure does not stop the rest.
set -u
cd "$(dirname "$0")/.."
DRY=0
if [ "${1:-}" = "--dry-run" ]; then DRY=1; shift; fi
OUT=${1:-work_dirs/gpu_check}
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python; fi
fi
mkdir -p "$OUT"
status=0

echo "== CUDA tests (tests/test_cuda; skipped without a GPU)"
start=$(date +%s)
timeout 300 "$PYTHON" -m pytest tests/test_cuda -q -rs \
    --junitxml="$OUT/cuda_tests.xml" 2>&1 | tee "$OUT/cuda_tests.log"
tests_rc=${PIPESTATUS[0]}
echo "CUDA tests: exit $tests_rc, $(( $(date +%s) - start )) s" | tee -a "$OUT/cuda_tests.log"
[ "$tests_rc" -eq 0 ] || status=1

echo "== GPU benchmarks"
if [ "$DRY" -eq 1 ]; then
    args=(--device cpu --tiny)
else
    args=(--device cuda)
fi
timeout 420 "$PYTHON" benchmarks/gpu_report.py --out "$OUT" "${args[@]}"
bench_rc=$?
[ "$bench_rc" -eq 0 ] || status=1

echo "== report: $OUT/report.md, $OUT/report.json; tests: $OUT/cuda_tests.log"
exit $status

#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check.py), offline, on one GPU: masks CUDA vs CPU, dtype auto,
# restore time, a real OOM halving, 4 trials a GPU through Ray, and GPU utilization sampled with
# nvidia-smi during the LLM demo. Prints one table; exit 1 if a check fails.
#   bash benchmarks/gpu_check.sh [OUT]     (OUT: where samples and the demo sweep go)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-./gpu-check}}
mkdir -p "$out"
python=${PYTHON:-python}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 500 \
    > "$out/utilization.csv" &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
"$python" benchmarks/gpu_check.py --out "$out" --utilization "$out/utilization.csv" \
    | tee "$out/gpu_check.txt"

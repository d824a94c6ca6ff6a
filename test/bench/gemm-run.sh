#!/usr/bin/env bash
# GPU call (../shared/gpu kit): per-shape GEMM throughput (gemm-bench.mjs), then DistilBERT-shape training throughput
# (throughput.mjs), fp32 and fp16, twice. Stage: bundle test/bench/gemm-bench.ts and test/bench/throughput.ts with
# test/bench/gpu-bundle.mjs, then ../shared/gpu/stage.sh those files test/bench/gemm-run.sh.
# Run there: bash .gpu/gemm-run.sh   (results under $OUT)
set -uo pipefail
source .gpu/boot.sh
cd /tmp/gpu
timeout 150 node gemm-bench.mjs --batch 32 2>&1 | tee "$OUT/gemm-bench.jsonl" | cut -c1-160
for round in 1 2; do
  timeout 100 node throughput.mjs --batches 16,32 --precisions fp32,fp16 --steps 10 --warmup 3 2>&1 | tee -a "$OUT/throughput.jsonl" | cut -c1-190
done
echo "gemm-run: done"

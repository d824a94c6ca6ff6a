#!/usr/bin/env bash
# GPU call (../shared/gpu kit): the 16-bit checks without and with native f16, per-shape GEMM throughput, and
# DistilBERT-shape training throughput (fp32, fp16; fp16 again with shader-f16). Stage: bundle test/bench/f16-check.ts,
# gemm-bench.ts and throughput.ts with test/bench/gpu-bundle.mjs, then
# ../shared/gpu/stage.sh /tmp/f16-check.mjs /tmp/gemm-bench.mjs /tmp/throughput.mjs test/bench/gpu-checks.sh
# Run there: bash .gpu/gpu-checks.sh   (results under $OUT)
set -uo pipefail
source .gpu/boot.sh
cd /tmp/gpu
# f16-check writes $OUT/f16-check-portable.txt and -native.txt itself and exits 1 when a check fails.
status=0
timeout 90 node f16-check.mjs || status=1
timeout 90 node f16-check.mjs vulkan_enable_f16_on_nvidia || status=1
timeout 150 node gemm-bench.mjs --batch 32 2>&1 | tee "$OUT/gemm-bench.jsonl" | grep '"tiled"' | cut -c1-150
for round in 1 2; do
  timeout 100 node throughput.mjs --batches 16,32 --precisions fp32,fp16 --steps 10 --warmup 3 2>&1 | tee -a "$OUT/throughput.jsonl" | cut -c1-175
done
timeout 100 node throughput.mjs --toggles vulkan_enable_f16_on_nvidia --batches 32 --precisions fp16 --steps 10 --warmup 3 2>&1 | tee -a "$OUT/throughput-native-f16.jsonl" | cut -c1-175
echo "gpu-checks: done (16-bit checks $([ $status = 0 ] && echo passed || echo FAILED))"
exit $status

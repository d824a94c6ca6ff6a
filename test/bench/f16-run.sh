#!/usr/bin/env bash
# GPU call (../shared/gpu kit) for native f16: the 16-bit checks and DistilBERT-shape training throughput with the
# portable half.wgsl and with shader-f16 (Dawn's vulkan_enable_f16_on_nvidia makes NVIDIA's Vulkan driver offer it).
# Stage: node test/bench/gpu-bundle.mjs test/bench/f16-check.ts /tmp/f16-check.mjs; same for throughput.ts;
#        ../shared/gpu/stage.sh /tmp/f16-check.mjs /tmp/throughput.mjs test/bench/f16-run.sh
# Run there: bash .gpu/f16-run.sh   (results under $OUT)
set -uo pipefail
source .gpu/boot.sh
cd /tmp/gpu
F16=vulkan_enable_f16_on_nvidia
timeout 120 node f16-check.mjs 2>&1 | grep -v Warning
timeout 120 node f16-check.mjs $F16 2>&1 | grep -v Warning
for round in 1 2; do
  timeout 120 node throughput.mjs --batches 16,32 --precisions fp32,fp16 --steps 10 --warmup 3 2>&1 | tee -a "$OUT/throughput-portable.jsonl" | cut -c1-200
  timeout 120 node throughput.mjs --toggles $F16 --batches 16,32 --precisions fp32,fp16 --steps 10 --warmup 3 2>&1 | tee -a "$OUT/throughput-native-f16.jsonl" | cut -c1-200
done
echo "f16-run: done"

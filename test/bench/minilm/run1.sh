#!/usr/bin/env bash
# GPU call 1 (see stage.sh), from the repo root: boot the kit, probe the adapter, DistilBERT-shape training throughput of
# TuneLab (fp32, fp16) and PyTorch (fp32, bf16, fp16 autocast) at sequence 192, batches 16 and 32. Results under $OUT.
set -uo pipefail
source .gpu/boot.sh
cd /tmp/gpu
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
timeout 30 node adapter-probe.mjs "" "vulkan_enable_f16_on_nvidia" "allow_unsafe_apis" 2>&1 | grep '^{' | tee "$OUT/adapter.jsonl"
timeout 240 node throughput.mjs --shape distilbert --seq 192 --batches 16,32 --precisions fp32,fp16 --steps 10 --warmup 3 2>&1 | tee "$OUT/tunelab-throughput.jsonl"
timeout 150 python3 throughput_torch.py --shape distilbert --seq 192 --batches 16,32 --precisions fp32,bf16,fp16 --steps 10 --warmup 3 2>&1 | grep -v Warning | tee "$OUT/torch-throughput.jsonl"
echo "run1: done"

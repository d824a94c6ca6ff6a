#!/usr/bin/env bash
# GPU call 2 (see stage.sh), on the machine call 1 booted: rebuild the MiniLM folder, fine-tune it on IMDB with TuneLab
# (fp32, fp16) and PyTorch (fp32, bf16, fp16) on the same examples, order and hyperparameters. Results under $OUT.
set -uo pipefail
if [ ! -x /tmp/gpu/bin/node ] || [ ! -d /tmp/gpu/minilm-layers ]; then echo "run2: /tmp/gpu is missing: this is not the machine call 1 booted (run call 1 again)"; exit 3; fi
export PATH=/tmp/gpu/bin:$PATH VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
cp -r .gpu2/* /tmp/gpu/
cd /tmp/gpu
python3 rebuild.py minilm-layers rest /tmp/minilm || exit 4
timeout ${TUNELAB_TIMEOUT:-300} node finetune.mjs --dir /tmp/minilm --precisions fp32,fp16 2> >(grep -E 'step (20|60|100|140|157)/' >&2) | tee "$OUT/tunelab-minilm.jsonl"
timeout ${TORCH_TIMEOUT:-200} python3 finetune_torch.py --dir /tmp/minilm --precisions fp32,bf16,fp16 2>&1 | grep -v -i warn | tee "$OUT/torch-minilm.jsonl"
echo "run2: done"

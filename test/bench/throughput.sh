#!/usr/bin/env bash
# Engine vs PyTorch training throughput in one run on one machine; the same flags go to both. Prints both JSON lines
# per batch size, then the ratio. Here (no GPU) the engine runs on SwiftShader: use --shape tiny.
#   bash test/bench/throughput.sh --shape tiny --seq 64 --batches 8,16 --steps 3
set -euo pipefail
cd "$(dirname "$0")/../.."
export TUNELAB_SWIFTSHADER=${TUNELAB_SWIFTSHADER:-1}
ours=$(node --import ./test/helpers/register.mjs test/bench/throughput.ts "$@" 2>/dev/null)
theirs=$(python3 test/bench/throughput_torch.py "$@")
echo "$ours"; echo "$theirs"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
ours = [json.loads(l) for l in sys.argv[1].splitlines() if l.startswith("{")]
theirs = [json.loads(l) for l in sys.argv[2].splitlines() if l.startswith("{")]
for o in ours:
    for t in theirs:
        if t["batch"] == o["batch"]:
            print(f"batch {o['batch']} seq {o['seq']} {o['shape']}: tunelab {o['precision']} {o['samples_per_second']:.2f} samples/s on {o['adapter']['description'] or o['adapter']['vendor']}, "
                  f"pytorch {t['precision']} {t['samples_per_second']:.2f} on {t['device']}: ratio {o['samples_per_second'] / t['samples_per_second']:.3f}")
PY

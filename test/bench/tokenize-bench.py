#!/usr/bin/env python3
"""Python side of test/bench/tokenize-bench.ts: Tokenizer.from_file + truncation(max_length) + encode_batch on
IMDB train then test, timed; writes the padded ids as raw little-endian uint16 [rows * max_len] to --out."""
import argparse
import gzip
import json
import os
import time

import numpy as np
import tokenizers

ap = argparse.ArgumentParser()
ap.add_argument("--imdb", required=True)
ap.add_argument("--tokenizer", required=True)
ap.add_argument("--max-len", type=int, default=192)
ap.add_argument("--out", required=True)
a = ap.parse_args()

texts = []
for split in ("train", "test"):
    with gzip.open(os.path.join(a.imdb, f"{split}.jsonl.gz"), "rt", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in f if line.strip()]
tok = tokenizers.Tokenizer.from_file(a.tokenizer)
tok.enable_truncation(max_length=a.max_len)
t0 = time.perf_counter()
encs = tok.encode_batch(texts)
seconds = time.perf_counter() - t0
ids = np.zeros((len(texts), a.max_len), dtype="<u2")
for i, e in enumerate(encs):
    ids[i, : len(e.ids)] = e.ids
ids.tofile(a.out)
print(json.dumps({
    "rows": len(texts), "seconds": seconds, "tokenizers": tokenizers.__version__,
    "threads": os.environ.get("RAYON_NUM_THREADS", f"default (cpus={os.cpu_count()})"),
}))

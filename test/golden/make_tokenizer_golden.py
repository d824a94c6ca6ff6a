#!/usr/bin/env python3
"""Golden token ids for TuneLab's tokenizer test (test/unit/data-tokenize.test.ts).

Python `tokenizers` (Tokenizer.from_file on the same tokenizer.json as the app, truncation max_length=192,
post-processor adding [CLS]/[SEP]) on the first 300 and the last 300 reviews of IMDB train (the file is
ordered negatives first, so both classes are covered). Writes test/golden/tokenizer/imdb-600.json.gz:
{"tokenizer_sha256", "max_length", "source", "rows": [{"index", "id", "text_sha256", "ids": [...]}]}.

Re-run from the repo root: python3 test/golden/make_tokenizer_golden.py
"""
import gzip
import hashlib
import json
import os
import sys

import tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER = os.path.join(ROOT, "public", "tokenizer", "bert-base-uncased", "tokenizer.json")
IMDB = os.path.join(ROOT, "..", "shared", "data", "imdb", "train.jsonl.gz")
OUT = os.path.join(ROOT, "test", "golden", "tokenizer", "imdb-600.json.gz")
MAX_LENGTH = 192


def main() -> None:
    if not os.path.exists(IMDB):
        sys.exit(f"IMDB not found at {IMDB}")
    with gzip.open(IMDB, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    picked = list(range(300)) + list(range(len(rows) - 300, len(rows)))
    tok = tokenizers.Tokenizer.from_file(TOKENIZER)
    tok.enable_truncation(max_length=MAX_LENGTH)
    encs = tok.encode_batch([rows[i]["text"] for i in picked])
    out = {
        "generator": f"tokenizers {tokenizers.__version__}, Tokenizer.from_file + enable_truncation(max_length={MAX_LENGTH})",
        "tokenizer": "public/tokenizer/bert-base-uncased/tokenizer.json",
        "tokenizer_sha256": hashlib.sha256(open(TOKENIZER, "rb").read()).hexdigest(),
        "source": "../shared/data/imdb/train.jsonl.gz (first 300 + last 300 lines)",
        "max_length": MAX_LENGTH,
        "rows": [
            {
                "index": i,
                "id": rows[i]["id"],
                "label": rows[i]["label"],
                "text_sha256": hashlib.sha256(rows[i]["text"].encode("utf-8")).hexdigest(),
                "ids": e.ids,
            }
            for i, e in zip(picked, encs)
        ],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # mtime=0 keeps the gzip bytes identical across runs.
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(json.dumps(out, separators=(",", ":")).encode("utf-8"))
    print(f"wrote {OUT}: {len(picked)} rows, {sum(len(e.ids) for e in encs)} ids, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()

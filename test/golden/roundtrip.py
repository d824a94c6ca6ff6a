#!/usr/bin/env python3
"""Load a Hugging Face model folder with transformers and print its eval-mode logits as one JSON line.

Used by the TypeScript export tests: TuneLab writes an HF folder (config.json + model.safetensors),
this script loads it with AutoModelForSequenceClassification (local files only) and prints

  {"logits": [[...]], "architectures": [...], "missing_keys": [...], "unexpected_keys": [...],
   "mismatched_keys": [...], "model_class": "...", "model_type": "..."}

so the test can assert that nothing was missing or unexpected and compare the logits.

Usage:
  python3 test/golden/roundtrip.py MODEL_DIR --ids IDS_JSON

IDS_JSON: {"input_ids": [[int,...],...], "attention_mask": [[0|1,...],...], "token_type_ids"?: [[...]]}
(rectangular, one row per sequence). Exit status 0 on success; 2 for bad arguments or input; 1 when
the model cannot be loaded or run. Errors go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

# Offline before transformers is imported: a missing local file must fail, not download.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class InputError(Exception):
    pass


def read_int_matrix(doc: dict[str, Any], key: str, path: Path, required: bool) -> list[list[int]] | None:
    if key not in doc:
        if required:
            raise InputError(f"{path}: missing field {key!r}")
        return None
    rows = doc[key]
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path}: field {key!r} must be a non-empty list of rows")
    width: int | None = None
    for r, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise InputError(f"{path}: {key}[{r}] must be a non-empty list of integers")
        for c, v in enumerate(row):
            if not isinstance(v, int) or isinstance(v, bool):
                raise InputError(f"{path}: {key}[{r}][{c}] = {v!r} is not an integer")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise InputError(f"{path}: {key}[{r}] has {len(row)} entries, row 0 has {width} (rows must be equal length)")
    return rows


def read_ids(path: Path) -> dict[str, list[list[int]]]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: top level must be an object with input_ids and attention_mask")
    out: dict[str, list[list[int]]] = {}
    for key, required in (("input_ids", True), ("attention_mask", True), ("token_type_ids", False)):
        rows = read_int_matrix(doc, key, path, required)
        if rows is not None:
            out[key] = rows
    shape = (len(out["input_ids"]), len(out["input_ids"][0]))
    for key, rows in out.items():
        if (len(rows), len(rows[0])) != shape:
            raise InputError(
                f"{path}: {key} is {len(rows)}x{len(rows[0])}, input_ids is {shape[0]}x{shape[1]} (shapes must match)"
            )
    for r, row in enumerate(out["attention_mask"]):
        for c, v in enumerate(row):
            if v not in (0, 1):
                raise InputError(f"{path}: attention_mask[{r}][{c}] = {v} (must be 0 or 1)")
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Eval-mode logits of a local HF sequence-classification folder.")
    ap.add_argument("model_dir", help="folder with config.json and model.safetensors")
    ap.add_argument("--ids", required=True, help="JSON file with input_ids, attention_mask [, token_type_ids]")
    args = ap.parse_args(argv)

    model_dir = Path(args.model_dir)
    if not (model_dir / "config.json").is_file():
        print(f"roundtrip: {model_dir / 'config.json'} not found (MODEL_DIR must be a local HF model folder)", file=sys.stderr)
        return 2
    try:
        inputs = read_ids(Path(args.ids))
    except InputError as e:
        print(f"roundtrip: bad --ids input: {e}", file=sys.stderr)
        return 2

    import torch
    from transformers import AutoModelForSequenceClassification

    torch.use_deterministic_algorithms(True)
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            str(model_dir), local_files_only=True, output_loading_info=True, attn_implementation="eager"
        )
    except Exception as e:  # transformers raises many types (OSError, ValueError, safetensors errors)
        print(f"roundtrip: cannot load {model_dir}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    model.eval()
    tensors = {k: torch.tensor(v, dtype=torch.long) for k, v in inputs.items()}
    vocab = int(getattr(model.config, "vocab_size", 0))
    bad = (tensors["input_ids"] < 0) | (tensors["input_ids"] >= vocab)
    if bool(bad.any()):
        r, c = (int(x) for x in bad.nonzero()[0])
        print(
            f"roundtrip: {args.ids}: input_ids[{r}][{c}] = {int(tensors['input_ids'][r, c])} is outside the vocabulary [0, {vocab})",
            file=sys.stderr,
        )
        return 2
    seq_len = tensors["input_ids"].shape[1]
    max_pos = int(getattr(model.config, "max_position_embeddings", seq_len))
    if seq_len > max_pos:
        print(f"roundtrip: {args.ids}: sequence length {seq_len} exceeds max_position_embeddings {max_pos}", file=sys.stderr)
        return 2
    if "token_type_ids" in tensors and model.config.model_type == "distilbert":
        print("roundtrip: DistilBERT takes no token_type_ids; remove the field from --ids", file=sys.stderr)
        return 2
    try:
        with torch.no_grad():
            logits = model(**tensors).logits
    except Exception as e:
        print(f"roundtrip: forward failed for {model_dir}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1

    def keys(name: str) -> list[str]:
        return sorted(str(k) for k in (info.get(name) or []))

    print(
        json.dumps(
            {
                "logits": logits.float().tolist(),
                "architectures": list(model.config.architectures or []),
                "missing_keys": keys("missing_keys"),
                "unexpected_keys": keys("unexpected_keys"),
                "mismatched_keys": keys("mismatched_keys"),
                "model_class": type(model).__name__,
                "model_type": model.config.model_type,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

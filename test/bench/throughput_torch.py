"""PyTorch baseline for test/bench/throughput.ts: DistilBertForSequenceClassification training steps (AdamW, clipping)
on random token batches, samples/s, one JSON line per (precision, batch). CUDA when available (fp32; bf16 autocast;
fp16 autocast with GradScaler), else CPU fp32.
Usage: python3 throughput_torch.py [--shape distilbert|tiny] [--seq 192] [--batches 16,32] [--precisions fp32,bf16,fp16] [--attn sdpa|eager] [--steps 10]"""
import argparse, json, time
import torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification

SHAPES = {"distilbert": dict(dim=768, n_layers=6, n_heads=12, hidden_dim=3072), "tiny": dict(dim=64, n_layers=2, n_heads=2, hidden_dim=128)}
p = argparse.ArgumentParser()
p.add_argument("--shape", default="distilbert"); p.add_argument("--seq", type=int, default=192)
p.add_argument("--batches", default="16,32"); p.add_argument("--precisions"); p.add_argument("--attn", default="sdpa"); p.add_argument("--steps", type=int, default=10); p.add_argument("--warmup", type=int, default=2)
a = p.parse_args()
dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)
precisions = a.precisions.split(",") if a.precisions else ["fp32", "bf16"] if dev == "cuda" else ["fp32"]
for prec in precisions:
    for B in [int(b) for b in a.batches.split(",")]:
        model = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=30522, num_labels=2, attn_implementation=a.attn, **SHAPES[a.shape])).to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.01)
        ids = torch.randint(1000, 30000, (B, a.seq), device=dev)
        labels = torch.arange(B, device=dev) % 2
        scaler = torch.amp.GradScaler(dev, enabled=prec == "fp16")
        def step():
            with torch.autocast(device_type=dev, dtype=torch.bfloat16 if prec == "bf16" else torch.float16, enabled=prec != "fp32"):
                loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels).loss
            scaler.scale(loss).backward(); scaler.unscale_(opt); torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(opt); scaler.update(); opt.zero_grad()
            return loss
        for _ in range(a.warmup): step()
        if dev == "cuda": torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(a.steps): loss = step()
        if dev == "cuda": torch.cuda.synchronize()
        s = time.perf_counter() - t0
        print(json.dumps({"engine": "pytorch-eager", "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "precision": prec, "shape": a.shape,
                          "seq": a.seq, "batch": B, "steps": a.steps, "seconds": s, "samples_per_second": B * a.steps / s, "threads": torch.get_num_threads(), "attn": a.attn,
                          "torch": torch.__version__}), flush=True)

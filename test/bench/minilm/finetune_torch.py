"""PyTorch side of the all-MiniLM-L6-v2 IMDB comparison (issue 3): the same folder, examples, batch order (order.json
written by finetune.ts), hyperparameters and schedule as TuneLab's run: AdamW with decoupled weight decay on all but
biases and LayerNorm weights (as the HF Trainer and TuneLab decide), linear warmup over ceil(ratio * steps) then linear
decay, gradient clipping at 1, dropout as configured, mean cross-entropy over the real rows of each batch, fixed
sequence length (padding masked). Prints one JSON line per precision (fp32; bf16/fp16 autocast, fp16 with GradScaler).
Usage: python3 finetune_torch.py --dir /tmp/minilm [--precisions fp32,bf16] [--lr 1e-4] [--batch 32] [--train N] [--test N]"""
import argparse, json, math, os, time
import numpy as np
import torch
from transformers import BertForSequenceClassification

p = argparse.ArgumentParser()
p.add_argument("--dir", default="/tmp/minilm"); p.add_argument("--precisions", default="fp32")
p.add_argument("--lr", type=float, default=1e-4); p.add_argument("--batch", type=int, default=32)
p.add_argument("--weight-decay", type=float, default=0.01); p.add_argument("--warmup", type=float, default=0.1)
p.add_argument("--seed", type=int, default=0); p.add_argument("--train", type=int); p.add_argument("--test", type=int)
p.add_argument("--eval-batch", type=int, default=256)
a = p.parse_args()
dev = "cuda" if torch.cuda.is_available() else "cpu"
meta = json.load(open(f"{a.dir}/data/meta.json")); T = meta["seq"]

def split(name, limit):
    n = min(limit or meta[name], meta[name])
    ids = np.fromfile(f"{a.dir}/data/{name}.ids", dtype=np.uint16)[: n * T].reshape(n, T).astype(np.int64)
    lengths = np.fromfile(f"{a.dir}/data/{name}.lengths", dtype=np.uint16)[:n].astype(np.int64)
    labels = np.fromfile(f"{a.dir}/data/{name}.labels", dtype=np.uint8)[:n].astype(np.int64)
    mask = (np.arange(T)[None, :] < lengths[:, None]).astype(np.int64)
    return torch.from_numpy(ids).to(dev), torch.from_numpy(mask).to(dev), torch.from_numpy(labels).to(dev)

train, test = split("train", a.train), split("test", a.test)
order = json.load(open(f"{a.dir}/results/order.json"))
assert len(order) == len(train[2]), f"order.json has {len(order)} rows, the train split {len(train[2])}"
steps = math.ceil(len(order) / a.batch); warmup = math.ceil(a.warmup * steps)
lr_lambda = lambda s: s / max(1, warmup) if s < warmup else max(0.0, (steps - s) / max(1, steps - warmup))

for prec in a.precisions.split(","):
    torch.manual_seed(a.seed)
    model = BertForSequenceClassification.from_pretrained(f"{a.dir}/model", dtype=torch.float32).to(dev)
    model.train()
    no_decay = [n for n, _ in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    groups = [{"params": [q for n, q in model.named_parameters() if n not in no_decay], "weight_decay": a.weight_decay},
              {"params": [q for n, q in model.named_parameters() if n in no_decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    scaler = torch.amp.GradScaler(dev, enabled=prec == "fp16")
    autocast = lambda: torch.autocast(device_type=dev, dtype=torch.bfloat16 if prec == "bf16" else torch.float16, enabled=prec != "fp32")
    losses = []
    if dev == "cuda": torch.cuda.synchronize()
    t0 = time.perf_counter()
    for s in range(steps):
        rows = torch.tensor(order[s * a.batch:(s + 1) * a.batch], device=dev)
        with autocast():
            out = model(input_ids=train[0][rows], attention_mask=train[1][rows], labels=train[2][rows])
        scaler.scale(out.loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt); scaler.update(); sched.step(); opt.zero_grad(set_to_none=True)
        losses.append(out.loss.detach())
    if dev == "cuda": torch.cuda.synchronize()
    train_seconds = time.perf_counter() - t0
    model.eval(); correct = 0; loss_sum = 0.0
    with torch.no_grad(), autocast():
        for i in range(0, len(test[2]), a.eval_batch):
            out = model(input_ids=test[0][i:i + a.eval_batch], attention_mask=test[1][i:i + a.eval_batch], labels=test[2][i:i + a.eval_batch])
            correct += (out.logits.argmax(-1) == test[2][i:i + a.eval_batch]).sum().item(); loss_sum += out.loss.item() * len(out.logits)
    n = len(test[2])
    line = {"engine": "pytorch-eager", "model": "all-MiniLM-L6-v2", "precision": prec, "train_reviews": len(order), "test_reviews": n, "seq": T,
            "batch": a.batch, "lr": a.lr, "weight_decay": a.weight_decay, "warmup_steps": warmup, "steps": steps,
            "test_accuracy": correct / n, "test_loss": loss_sum / n, "train_loss_first": losses[0].item(), "train_loss_last": losses[-1].item(),
            "train_samples_per_second": len(order) / train_seconds, "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu",
            "torch": torch.__version__, "attn": model.config._attn_implementation}
    print(json.dumps(line), flush=True)
    os.makedirs(f"{a.dir}/results", exist_ok=True)
    json.dump(line, open(f"{a.dir}/results/torch-{prec}.json", "w"), indent=1)

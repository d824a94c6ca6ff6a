#!/usr/bin/env python3
"""Golden fixtures for the TuneLab WebGPU engine, produced by PyTorch + transformers.

The engine must reproduce, for tiny seeded DistilBERT/BERT sequence classifiers:
  * the step-0 forward (logits, loss) and every parameter gradient (before clipping),
  * six training steps of the Hugging Face Trainer recipe: mean cross-entropy, AdamW with a
    no-decay group (biases + LayerNorm weights), global-norm clipping (active on every step),
    linear warmup/decay schedule; weights after the six steps.

Usage:
  python3 test/golden/make_golden.py [--out test/golden/fixtures] [--only NAME ...]
  python3 test/golden/make_golden.py --check [--out DIR]   # reload the fixtures and verify them

Output per config, in <out>/<name>/:
  model/config.json, model/model.safetensors   initial model (save_pretrained, safetensors)
  golden.safetensors                           inputs, logits, losses, grads, weights after training
  golden.json                                  recipe and versions (see README.md)

Everything runs on the CPU in float32 with deterministic algorithms and dropout 0, so a rerun with
the same torch/transformers versions writes the same numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    BertConfig,
    BertForSequenceClassification,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    get_linear_schedule_with_warmup,
)

STEPS = 6
WARMUP_STEPS = 2
TOTAL_STEPS = 8
LR = 5e-3
WEIGHT_DECAY = 0.01
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
# Atol for --check comparisons (same machine, same library versions: differences are reordering noise).
CHECK_ATOL = 1e-5
CHECK_RTOL = 1e-4
# Std of transformers' default normal init. The default 0.02 leaves these 32-wide models with
# near-uniform attention (scores ~0.01), logits ~0.01 and query/key gradients ~1e-6, half of whose
# entries sit below 1e-7, where AdamW's normalised update turns float32 noise into weight changes.
# 0.1 gives attention scores ~0.3, logits ~0.1-0.4 and query/key gradients ~3e-3: a sharper test.
INIT_RANGE = 0.1


@dataclass(frozen=True)
class GoldenConfig:
    name: str
    arch: str  # "distilbert" | "bert"
    seed: int
    batch: int
    seq_len: int
    # Real-token lengths of the step-0 batch (the other steps draw their own in [2, seq_len]).
    step0_lengths: tuple[int, ...]
    max_grad_norm: float
    model_kwargs: dict[str, Any] = field(default_factory=dict)


CONFIGS: list[GoldenConfig] = [
    GoldenConfig(
        name="distilbert-tiny",
        arch="distilbert",
        seed=1234,
        batch=4,
        seq_len=16,
        step0_lengths=(16, 11, 7, 16),
        max_grad_norm=0.5,
        model_kwargs=dict(
            vocab_size=128,
            dim=32,
            n_heads=2,
            n_layers=2,
            hidden_dim=64,
            max_position_embeddings=32,
            initializer_range=INIT_RANGE,
        ),
    ),
    GoldenConfig(
        name="distilbert-awkward",
        arch="distilbert",
        seed=4321,
        batch=4,
        seq_len=13,
        step0_lengths=(13, 5, 9, 2),
        max_grad_norm=0.5,
        model_kwargs=dict(
            vocab_size=97,
            dim=36,
            n_heads=3,
            n_layers=2,
            hidden_dim=52,
            max_position_embeddings=20,
            initializer_range=INIT_RANGE,
        ),
    ),
    GoldenConfig(
        name="bert-tiny",
        arch="bert",
        seed=2024,
        batch=4,
        seq_len=16,
        step0_lengths=(16, 11, 7, 16),
        max_grad_norm=0.5,
        model_kwargs=dict(
            vocab_size=128,
            hidden_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            intermediate_size=64,
            max_position_embeddings=32,
            hidden_act="gelu",
            initializer_range=INIT_RANGE,
        ),
    ),
]


def setup_torch() -> None:
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # one thread: reductions in one fixed order
    torch.set_default_dtype(torch.float32)


def build_model(cfg: GoldenConfig) -> torch.nn.Module:
    """Transformers' default init under cfg.seed, then LayerNorm weights and all biases perturbed."""
    torch.manual_seed(cfg.seed)
    if cfg.arch == "distilbert":
        hf_cfg = DistilBertConfig(
            **cfg.model_kwargs,
            dropout=0.0,
            attention_dropout=0.0,
            seq_classif_dropout=0.0,
            num_labels=2,
            pad_token_id=0,
            attn_implementation="eager",
        )
        model = DistilBertForSequenceClassification(hf_cfg)
    elif cfg.arch == "bert":
        hf_cfg = BertConfig(
            **cfg.model_kwargs,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
            classifier_dropout=0.0,
            num_labels=2,
            pad_token_id=0,
            type_vocab_size=2,
            attn_implementation="eager",
        )
        model = BertForSequenceClassification(hf_cfg)
    else:
        raise ValueError(f"unknown arch {cfg.arch!r} in config {cfg.name}")
    hf_cfg.architectures = [type(model).__name__]

    # Perturb after the default init (its own RNG stream, seeded from cfg.seed) so that LayerNorm
    # gains/shifts and biases are not 1/0 and their gradients, decay masks and parity are exercised.
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1.0 + 0.1 * torch.randn(module.weight.shape, generator=gen))
                module.bias.copy_(0.02 * torch.randn(module.bias.shape, generator=gen))
        for name, p in model.named_parameters():
            if name.endswith(".bias") and not is_layer_norm_param(model, name):
                p.add_(0.02 * torch.randn(p.shape, generator=gen))
    return model


def layer_norm_param_names(model: torch.nn.Module) -> set[str]:
    out: set[str] = set()
    for mod_name, module in model.named_modules():
        if isinstance(module, torch.nn.LayerNorm):
            for p_name, _ in module.named_parameters(recurse=False):
                out.add(f"{mod_name}.{p_name}")
    return out


def is_layer_norm_param(model: torch.nn.Module, name: str) -> bool:
    return name in layer_norm_param_names(model)


def no_decay_names(model: torch.nn.Module) -> list[str]:
    """Trainer's rule: no decay for biases and LayerNorm parameters (by module type).

    Cross-checked against the name rule the engine uses ("bias" in name, or a LayerNorm/layer_norm
    weight) so that both agree for these architectures.
    """
    ln = layer_norm_param_names(model)
    by_type = [n for n, _ in model.named_parameters() if "bias" in n or n in ln]
    by_name = [
        n
        for n, _ in model.named_parameters()
        if "bias" in n or (n.endswith(".weight") and ("LayerNorm" in n or "layer_norm" in n))
    ]
    if by_type != by_name:
        raise AssertionError(f"no-decay rules disagree:\n by type {by_type}\n by name {by_name}")
    return by_type


def make_batches(cfg: GoldenConfig, vocab: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """input_ids, attention_mask [S,B,T] int64 and labels [S,B] int64.

    Real tokens are ids in [1, vocab) (position 0 included: the engine treats it as [CLS]); padding
    is id 0 with mask 0, right-padded. Every step has both labels.
    """
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    s, b, t = STEPS, cfg.batch, cfg.seq_len
    assert len(cfg.step0_lengths) == b
    ids = torch.zeros((s, b, t), dtype=torch.int64)
    mask = torch.zeros((s, b, t), dtype=torch.int64)
    labels = torch.zeros((s, b), dtype=torch.int64)
    for step in range(s):
        if step == 0:
            lengths = list(cfg.step0_lengths)
        else:
            lengths = torch.randint(2, t + 1, (b,), generator=gen).tolist()
        for row, length in enumerate(lengths):
            ids[step, row, :length] = torch.randint(1, vocab, (length,), generator=gen)
            mask[step, row, :length] = 1
        lab = torch.randint(0, 2, (b,), generator=gen)
        if int(lab.min()) == int(lab.max()):
            lab[step % b] = 1 - lab[step % b]
        labels[step] = lab
    return ids, mask, labels


def forward(model: torch.nn.Module, arch: str, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor):
    kwargs: dict[str, torch.Tensor] = dict(input_ids=ids, attention_mask=mask, labels=labels)
    if arch == "bert":
        kwargs["token_type_ids"] = torch.zeros_like(ids)
    return model(**kwargs)


@dataclass
class TrainResult:
    logits: torch.Tensor  # [B,2] step-0 batch, initial weights
    losses: torch.Tensor  # [S]
    grad_norms: torch.Tensor  # [S] pre-clip
    lrs: torch.Tensor  # [S]
    grads0: dict[str, torch.Tensor]  # step-0 grads, before clipping
    after: dict[str, torch.Tensor]


def train(cfg: GoldenConfig, model: torch.nn.Module, ids, mask, labels, no_decay: list[str], verbose: bool) -> TrainResult:
    model.train()  # dropout is 0 everywhere, so train mode equals eval mode numerically
    nd = set(no_decay)
    named = list(model.named_parameters())
    params = [p for _, p in named]
    groups = [
        {"params": [p for n, p in named if n not in nd], "weight_decay": WEIGHT_DECAY},
        {"params": [p for n, p in named if n in nd], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR, betas=BETAS, eps=ADAM_EPS, foreach=False)
    sched = get_linear_schedule_with_warmup(opt, num_warmup_steps=WARMUP_STEPS, num_training_steps=TOTAL_STEPS)

    losses, norms, lrs = [], [], []
    logits0 = torch.empty(0)
    grads0: dict[str, torch.Tensor] = {}
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        out = forward(model, cfg.arch, ids[step], mask[step], labels[step])
        out.loss.backward()
        if step == 0:
            logits0 = out.logits.detach().clone()
            grads0 = {}
            for n, p in named:
                if p.grad is None:
                    raise AssertionError(f"{cfg.name}: parameter {n} got no gradient")
                grads0[n] = p.grad.detach().clone()
        total = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm, foreach=False)
        lr = opt.param_groups[0]["lr"]
        assert all(g["lr"] == lr for g in opt.param_groups)
        if verbose:
            print(f"  step {step}: loss {out.loss.item():.6f}  grad_norm {total.item():.6f}  lr {lr:.6g}")
        if not total.item() > cfg.max_grad_norm:
            raise AssertionError(
                f"{cfg.name}: clipping inactive on step {step}: grad norm {total.item()} <= max {cfg.max_grad_norm}"
            )
        losses.append(out.loss.item())
        norms.append(total.item())
        lrs.append(lr)
        opt.step()
        sched.step()
    after = {n: p.detach().clone() for n, p in named}
    return TrainResult(
        logits=logits0,
        losses=torch.tensor(losses, dtype=torch.float64),
        grad_norms=torch.tensor(norms, dtype=torch.float64),
        lrs=torch.tensor(lrs, dtype=torch.float64),
        grads0=grads0,
        after=after,
    )


def golden_tensors(ids, mask, labels, res: TrainResult) -> dict[str, torch.Tensor]:
    t: dict[str, torch.Tensor] = {
        "input_ids": ids.to(torch.int32),
        "attention_mask": mask.to(torch.int32),
        "labels": labels.to(torch.int32),
        "logits": res.logits.float(),
        "loss": res.losses[:1].float(),
        "losses": res.losses.float(),
        "grad_norms": res.grad_norms.float(),
        "lrs": res.lrs.float(),
    }
    for n, g in res.grads0.items():
        t[f"grad.{n}"] = g.float()
    for n, w in res.after.items():
        t[f"after.{n}"] = w.float()
    return {k: v.contiguous() for k, v in t.items()}


def generate(cfg: GoldenConfig, out_root: Path) -> None:
    print(f"[{cfg.name}]")
    model = build_model(cfg)
    vocab = model.config.vocab_size
    ids, mask, labels = make_batches(cfg, vocab)
    no_decay = no_decay_names(model)
    initial = {n: p.detach().clone() for n, p in model.named_parameters()}

    folder = out_root / cfg.name
    if folder.exists():
        shutil.rmtree(folder)
    model_dir = folder / "model"
    model_dir.mkdir(parents=True)
    # Save the initial model first (before any step mutates it).
    model.save_pretrained(model_dir)
    saved = load_file(str(model_dir / "model.safetensors"))
    missing = sorted(set(initial) - set(saved))
    extra = sorted(set(saved) - set(initial))
    if missing or extra:
        raise AssertionError(f"{cfg.name}: save_pretrained keys differ: missing {missing}, extra {extra}")
    for n, w in initial.items():
        if not torch.equal(saved[n], w):
            raise AssertionError(f"{cfg.name}: saved {n} differs from the initial weight")

    res = train(cfg, model, ids, mask, labels, no_decay, verbose=True)
    tensors = golden_tensors(ids, mask, labels, res)
    save_file(tensors, str(folder / "golden.safetensors"))
    noise = fp64_noise(cfg, ids, mask, labels, no_decay, initial, tensors)
    meta = {
        "arch": cfg.arch,
        "model_class": type(model).__name__,
        "steps": STEPS,
        "batch": cfg.batch,
        "seq_len": cfg.seq_len,
        "lr": LR,
        "weight_decay": WEIGHT_DECAY,
        "betas": list(BETAS),
        "eps": ADAM_EPS,
        "max_grad_norm": cfg.max_grad_norm,
        "warmup_steps": WARMUP_STEPS,
        "total_steps": TOTAL_STEPS,
        "schedule": "linear",
        "loss": "cross_entropy_mean",
        "no_decay": no_decay,
        "params": [n for n, _ in model.named_parameters()],
        "step0_lengths": list(cfg.step0_lengths),
        "attn_implementation": "eager",
        "fp64_max_abs_diff": noise,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "seed": cfg.seed,
    }
    (folder / "golden.json").write_text(json.dumps(meta, indent=2) + "\n")
    sizes = {p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}
    print(f"  wrote {folder}: " + ", ".join(f"{k} {v} B" for k, v in sizes.items()))


def fp64_noise(
    cfg: GoldenConfig,
    ids: torch.Tensor,
    mask: torch.Tensor,
    labels: torch.Tensor,
    no_decay: list[str],
    initial: dict[str, torch.Tensor],
    tensors: dict[str, torch.Tensor],
) -> dict[str, float]:
    """Max |float32 golden - float64 rerun| per float tensor: the float32 noise floor of each value.

    A float32 engine cannot be expected to match closer than this. Most values agree to ~1e-6; the
    attention key biases are the exception: their true gradient is exactly 0 (softmax ignores a
    per-row constant), so their float32 gradient is rounding noise (~1e-10) that AdamW (eps 1e-8)
    turns into weight changes of up to ~1e-4 after six steps.
    """
    model = build_model(cfg).double()
    for n, p in model.named_parameters():
        if not torch.equal(p.detach().float(), initial[n]):
            raise AssertionError(f"{cfg.name}: rebuilt model differs at {n}")
    res = train(cfg, model, ids, mask, labels, no_decay, verbose=False)
    ref64 = {
        "logits": res.logits,
        "loss": res.losses[:1],
        "losses": res.losses,
        "grad_norms": res.grad_norms,
        "lrs": res.lrs,
        **{f"grad.{n}": g for n, g in res.grads0.items()},
        **{f"after.{n}": w for n, w in res.after.items()},
    }
    out: dict[str, float] = {}
    for k, v in tensors.items():
        if not v.is_floating_point():
            continue
        if k not in ref64:
            raise AssertionError(f"{cfg.name}: float64 rerun lacks {k}")
        out[k] = float(f"{(v.double() - ref64[k].double()).abs().max().item():.3g}")
    return out


def close(name: str, what: str, got: torch.Tensor, want: torch.Tensor, errors: list[str]) -> None:
    if got.shape != want.shape:
        errors.append(f"{name}: {what} shape {tuple(got.shape)} != {tuple(want.shape)}")
        return
    diff = (got.double() - want.double()).abs()
    tol = CHECK_ATOL + CHECK_RTOL * want.double().abs()
    if bool((diff > tol).any()):
        i = int(torch.argmax(diff - tol))
        errors.append(
            f"{name}: {what} max |diff| {diff.max().item():.3g} (worst flat index {i}: "
            f"got {got.flatten()[i].item()}, want {want.flatten()[i].item()})"
        )


def check(cfg: GoldenConfig, out_root: Path) -> list[str]:
    """Reload a fixture the way the engine would (files only) and re-run it in PyTorch."""
    folder = out_root / cfg.name
    errors: list[str] = []
    meta = json.loads((folder / "golden.json").read_text())
    g = load_file(str(folder / "golden.safetensors"))
    model, info = AutoModelForSequenceClassification.from_pretrained(
        str(folder / "model"), local_files_only=True, output_loading_info=True, attn_implementation="eager"
    )
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        if info.get(key):
            errors.append(f"{cfg.name}: from_pretrained {key}: {sorted(map(str, info[key]))}")
    weights = load_file(str(folder / "model" / "model.safetensors"))
    names = [n for n, _ in model.named_parameters()]
    if names != meta["params"]:
        errors.append(f"{cfg.name}: parameter list differs from golden.json")
    for n in names:
        for prefix in ("grad.", "after."):
            if f"{prefix}{n}" not in g:
                errors.append(f"{cfg.name}: golden.safetensors lacks {prefix}{n}")
        if n not in weights:
            errors.append(f"{cfg.name}: model.safetensors lacks {n}")
    s, b, t = meta["steps"], meta["batch"], meta["seq_len"]
    for key, shape in (("input_ids", (s, b, t)), ("attention_mask", (s, b, t)), ("labels", (s, b))):
        if tuple(g[key].shape) != shape or g[key].dtype != torch.int32:
            errors.append(f"{cfg.name}: {key} is {g[key].dtype} {tuple(g[key].shape)}, want int32 {shape}")
    ids = g["input_ids"].long()
    mask = g["attention_mask"].long()
    labels = g["labels"].long()
    if bool(((ids == 0) != (mask == 0)).any()):
        errors.append(f"{cfg.name}: padding ids and attention_mask disagree")
    for step in range(s):
        if set(labels[step].tolist()) != {0, 1}:
            errors.append(f"{cfg.name}: step {step} labels {labels[step].tolist()} lack a class")

    # Step-0 forward, with the model in eval mode (what roundtrip.py and inference use).
    model.eval()
    with torch.no_grad():
        out = forward(model, meta["arch"], ids[0], mask[0], labels[0])
    close(cfg.name, "eval logits", out.logits, g["logits"], errors)
    close(cfg.name, "eval loss", out.loss.reshape(1), g["loss"], errors)
    # Hand-computed mean cross-entropy from the stored logits equals the stored loss.
    ce = torch.nn.functional.cross_entropy(g["logits"].double(), labels[0]).float().reshape(1)
    close(cfg.name, "CE(stored logits)", ce, g["loss"], errors)

    # Re-run the whole recipe from the saved files and compare every stored number.
    res = train(cfg, model, ids, mask, labels, meta["no_decay"], verbose=False)
    close(cfg.name, "losses", res.losses, g["losses"], errors)
    close(cfg.name, "grad_norms", res.grad_norms, g["grad_norms"], errors)
    close(cfg.name, "lrs", res.lrs, g["lrs"], errors)
    for n in names:
        close(cfg.name, f"grad.{n}", res.grads0[n], g[f"grad.{n}"], errors)
        close(cfg.name, f"after.{n}", res.after[n], g[f"after.{n}"], errors)
    # Stored step-0 grad norm equals the norm of the stored gradients.
    norm0 = torch.sqrt(sum((g[f"grad.{n}"].double() ** 2).sum() for n in names)).float().reshape(1)
    close(cfg.name, "|stored grads|", norm0, g["grad_norms"][:1], errors)
    # Expected schedule: linear warmup over 2 steps then linear decay to 0 at step 8.
    want_lrs = [
        LR * (k / WARMUP_STEPS if k < WARMUP_STEPS else max(0.0, (TOTAL_STEPS - k) / (TOTAL_STEPS - WARMUP_STEPS)))
        for k in range(s)
    ]
    close(cfg.name, "lrs vs formula", g["lrs"], torch.tensor(want_lrs, dtype=torch.float32), errors)
    if not bool((g["grad_norms"] > meta["max_grad_norm"]).all()):
        errors.append(f"{cfg.name}: clipping not active on every step: {g['grad_norms'].tolist()}")
    moved = max((g[f"after.{n}"] - weights[n]).abs().max().item() for n in names)
    if not moved > 1e-3:
        errors.append(f"{cfg.name}: weights barely moved (max change {moved})")
    status = "ok" if not errors else f"{len(errors)} problem(s)"
    print(
        f"[{cfg.name}] check {status}: logits {tuple(g['logits'].shape)}, loss {g['loss'].item():.6f}, "
        f"grad_norms {[round(x, 4) for x in g['grad_norms'].tolist()]} > {meta['max_grad_norm']}, "
        f"max weight change {moved:.4g}"
    )
    return errors


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "fixtures"), help="fixtures root folder")
    ap.add_argument("--only", nargs="*", default=None, help="config names to process (default: all)")
    ap.add_argument("--check", action="store_true", help="verify existing fixtures instead of writing them")
    args = ap.parse_args(argv)
    setup_torch()
    known = {c.name: c for c in CONFIGS}
    names = args.only if args.only else list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"unknown config(s) {unknown}; known: {list(known)}", file=sys.stderr)
        return 2
    out_root = Path(args.out)
    if args.check:
        errors: list[str] = []
        for n in names:
            if not (out_root / n / "golden.safetensors").is_file():
                errors.append(f"{n}: {out_root / n / 'golden.safetensors'} not found (run without --check first)")
                continue
            errors += check(known[n], out_root)
        for e in errors:
            print("ERROR " + e, file=sys.stderr)
        return 1 if errors else 0
    out_root.mkdir(parents=True, exist_ok=True)
    for n in names:
        generate(known[n], out_root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

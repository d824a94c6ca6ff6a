"""HyperOpt side of the TPE comparison (test/bench/tpe-compare.ts, test/unit/search-tpe-vs-hyperopt.test.ts).

Runs hyperopt's TPE (or its random search) on the benchmark functions defined identically in
test/bench/tpe-functions.ts and prints one JSON object per (function, seed) on stdout:
  {"function": "branin", "algo": "tpe", "seed": 0, "best": [running minimum after each evaluation]}

usage: python3 test/bench/tpe_hyperopt.py --functions branin,hartmann6,logcat --seeds 20 --evals 100 [--algo tpe|rand]
"""

import argparse
import json
import math
import sys
from functools import partial

import numpy as np
from hyperopt import Trials, fmin, hp, rand, tpe

# -- objectives (keep in sync with tpe-functions.ts)


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


H6_ALPHA = [1.0, 1.2, 3.0, 3.2]
H6_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
H6_P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def hartmann6(p):
    x = [p[f"x{i}"] for i in range(1, 7)]
    total = 0.0
    for i in range(4):
        inner = sum(H6_A[i][j] * (x[j] - H6_P[i][j] * 1e-4) ** 2 for j in range(6))
        total += H6_ALPHA[i] * math.exp(-inner)
    return -total


LOGCAT_CENTER = {"sgd": -1.5, "adam": -3.5, "adamw": -3.0, "rmsprop": -4.0}
LOGCAT_OFFSET = {"sgd": 1.0, "adam": 0.3, "adamw": 0.0, "rmsprop": 0.6}
LOGCAT_CHOICES = ["sgd", "adam", "adamw", "rmsprop"]


def logcat(p):
    opt = p["optimizer"]
    return (
        (math.log10(p["lr"]) - LOGCAT_CENTER[opt]) ** 2
        + 0.5 * (math.log10(p["wd"]) + 4.0) ** 2
        + LOGCAT_OFFSET[opt]
    )


SPACES = {
    "branin": (branin, {"x1": hp.uniform("x1", -5, 10), "x2": hp.uniform("x2", 0, 15)}),
    "hartmann6": (hartmann6, {f"x{i}": hp.uniform(f"x{i}", 0, 1) for i in range(1, 7)}),
    "logcat": (
        logcat,
        {
            "lr": hp.loguniform("lr", math.log(1e-5), math.log(1e-1)),
            "wd": hp.loguniform("wd", math.log(1e-6), math.log(1e-1)),
            "optimizer": hp.choice("optimizer", LOGCAT_CHOICES),
        },
    ),
}


def run(name, algo, seed, evals, n_startup):
    fn, space = SPACES[name]
    trials = Trials()
    suggest = partial(tpe.suggest, n_startup_jobs=n_startup) if algo == "tpe" else rand.suggest
    fmin(
        fn,
        space,
        algo=suggest,
        max_evals=evals,
        trials=trials,
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
    )
    best, out = math.inf, []
    for loss in trials.losses():
        best = min(best, loss)
        out.append(best)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--functions", default="branin,hartmann6,logcat")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--evals", type=int, default=100)
    ap.add_argument("--algo", choices=["tpe", "rand"], default="tpe")
    ap.add_argument("--n-startup", type=int, default=20)
    args = ap.parse_args()
    import logging

    logging.getLogger("hyperopt").setLevel(logging.ERROR)
    for name in args.functions.split(","):
        if name not in SPACES:
            sys.exit(f"tpe_hyperopt.py: unknown function {name!r} (known: {', '.join(SPACES)})")
        for seed in range(args.seeds):
            best = run(name, args.algo, seed, args.evals, args.n_startup)
            print(json.dumps({"function": name, "algo": args.algo, "seed": seed, "best": best}), flush=True)


if __name__ == "__main__":
    main()

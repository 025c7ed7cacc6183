"""Issue 15: distance to the exact conditional per NFE budget, on the exact-Gaussian benchmark.

    /work/main/.venv/bin/python bench/bench_conditional.py                    # every sampler, 4 budgets
    /work/main/.venv/bin/python bench/bench_conditional.py --budgets 230      # one budget
    /work/main/.venv/bin/python bench/bench_conditional.py --digits 230       # digits agreement of ours

The set-up (prior, masks half / every_second_line / expand, known values, 2,000 samples, W2 of the
Gaussian fit, the exact-sampler floor) is ``bench_repaint_quality.py``'s ``gaussian`` part; the sigmas
are the linear-beta T = 1000 DDPM's at power-p placed fractional timesteps (``bench_repaint_goal``).
Samplers, each at about 100, 230, 450 and 2,400 model calls (NFE):

``langevin_pc`` (ours, :func:`samplers.sample_langevin_pc`)
    T levels of a power-2.5 schedule, DDPM predictor, 4 kinetic-Langevin (BAOAB) corrector steps per
    level, step 1.5, friction 0.02; known region re-noised with one fixed noise
    (``KnownRegionDenoiser(fixed_noise=True)``). NFE = T + 4 (T - 1).
``repaint_power`` (today's best: Power Scheduler 2.5 + RePaint, ``bench_repaint_goal``)
    (50 steps, jump_length 5, jump_n_sample r) with resampling at progress >= 0.5; r sets the NFE.
``lanpaint`` (a re-implementation of LanPaint, Zheng, Lan & Wang, TMLR 2025, from the paper's
    description; none of its code)
    Euler (DDIM, eta = 0) outer steps on the joint, each preceded by N = 5 inner Langevin iterations
    on the whole state with the paper's bidirectional guided ("BiG") score: the unknown part follows
    the joint score, the known part ``y_t`` follows ``-(1 + lambda) (y_t - a y) / b^2 +
    lambda (y_t - a y_hat) / b^2`` (pulled to the noised known values, pushed away from the model's
    own estimate y_hat), step ``eta_L * (1 - abar)`` in VP units (= eta_L * sigma^2 in VE units),
    eta_L = 0.2, lambda = ``--lanpaint-lambda``, the known part's step scaled by beta = 1. The
    paper's fast (underdamped) Langevin integrator with its large friction is taken in its
    overdamped limit. The known part starts each outer step at the forward-noised known values.
    NFE = T (N + 1).

Outputs: ``bench/results/conditional.json`` and ``conditional.md`` (the table, also printed).
One thread (``torch.set_num_threads(1)``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_repaint_goal as bg  # noqa: E402
import bench_repaint_quality as bq  # noqa: E402
from repaint_extend.samplers import KnownRegionDenoiser, langevin_nfe, sample_langevin_pc  # noqa: E402

BUDGETS = (100, 230, 450, 2400)
CORRECTOR_STEPS = 4
LANPAINT_INNER = 5


def power_sigmas(steps: int, power: float = 2.5) -> torch.Tensor:
    return bg.sigmas_for(dict(T=steps, placement=power))


def ours_steps(budget: int) -> int:
    """Largest T with T + 4 (T - 1) model calls <= budget."""
    return (budget + CORRECTOR_STEPS) // (CORRECTOR_STEPS + 1)


def run_langevin(prior, x_known, case, budget, n, seed, **kw):
    steps = ours_steps(budget)
    mask = case["mask"][None].float()
    known = x_known[None].float()
    model = KnownRegionDenoiser(prior.ve_denoiser(), known, mask, seed=seed + 1, fixed_noise=True)
    sig = power_sigmas(steps).float()
    x = sig[0] * torch.randn(n, prior.d, generator=torch.Generator().manual_seed(seed))
    out = sample_langevin_pc(
        model, x, sig, {"seed": seed + 2}, disable=True, corrector_steps=CORRECTOR_STEPS, **kw
    )
    return out, langevin_nfe(sig, CORRECTOR_STEPS)


def repaint_power_spec(budget: int) -> dict:
    """(50, 5, r), power 2.5, resample at progress >= 0.5, r with the NFE nearest to ``budget``."""
    best = None
    for r in range(1, 200):
        c = dict(T=50, j=5, r=r, placement=2.5, start=0.5)
        nfe = bg.nfe_of(c)
        if best is None or abs(nfe - budget) < abs(best[1] - budget):
            best = (c, nfe)
    return best[0]


def run_repaint_power(prior, x_known, case, budget, n, seed):
    c = repaint_power_spec(budget)
    u, _ = bq.gauss_run_ours(
        prior, x_known, case, bg.sigmas_for(c), c["j"], c["r"], n, seed, start=c["start"]
    )
    full = torch.zeros(n, prior.d, dtype=torch.float64)
    full[:, case["unknown_idx"]] = u
    return full, bg.nfe_of(c)


def lanpaint(model, y, keep, sigmas, n_inner, step, lam, beta, generator, x):
    """The LanPaint re-implementation described in the module docstring (VE convention, float32).

    Args:
        model: ``(x [B, d], sigma [B]) -> x0_hat``; y: known values ``[1, d]``; keep: 1 = known.
        sigmas: decreasing ``[T + 1]`` ending at 0; x: the start at sigmas[0].

    Returns:
        (final state with the known part set to y, NFE).
    """
    nfe = 0
    s_in = x.new_ones([x.shape[0]])
    gen = 1.0 - keep
    for k in range(len(sigmas) - 1):
        s, s_next = float(sigmas[k]), float(sigmas[k + 1])
        z = x * gen + (y + s * torch.randn(x.shape, generator=generator)) * keep
        for _ in range(n_inner):
            d = model(z, s * s_in)
            nfe += 1
            drift_x = d - z
            drift_y = (1 + lam) * (y - z) - lam * (d - z)
            noise = torch.randn(z.shape, generator=generator)
            z_x = z + step * drift_x + s * math.sqrt(2 * step) * noise
            z_y = z + beta * step * drift_y + s * math.sqrt(2 * beta * step) * noise
            z = z_x * gen + z_y * keep
        d = model(z, s * s_in)
        nfe += 1
        z = d + (s_next / s) * (z - d)  # Euler / DDIM step of the probability-flow ODE
        x = z
    return x * gen + y * keep, nfe


def run_lanpaint(prior, x_known, case, budget, n, seed, lam=4.0):
    steps = max(1, round(budget / (LANPAINT_INNER + 1)))
    sig = bq.repaint_sigmas(steps).float()
    gen = torch.Generator().manual_seed(seed)
    x = sig[0] * torch.randn(n, prior.d, generator=gen)
    keep = 1.0 - case["mask"][None].float()
    out, nfe = lanpaint(
        prior.ve_denoiser(), x_known[None].float(), keep, sig, LANPAINT_INNER, 0.2, lam, 1.0, gen, x
    )
    return out, nfe


def floor(cases, n, draws, seed):
    gen = torch.Generator().manual_seed(seed + 100)
    out = {}
    for m, c in cases.items():
        chol = torch.linalg.cholesky(c["cov"] + 1e-12 * torch.eye(len(c["mean"]), dtype=torch.float64))
        vals = []
        for _ in range(draws):
            z = torch.randn(n, len(c["mean"]), generator=gen, dtype=torch.float64)
            vals.append(bq.w2_samples(c["mean"] + z @ chol.T, c["mean"], c["cov"]))
        out[m] = {"mean": float(np.mean(vals)), "std": float(np.std(vals, ddof=1))}
    return out


def render(res: dict) -> str:
    masks = bq.GAUSS_MASKS
    fl = res["floor"]
    lines = [
        "W2 to the exact conditional, " + " / ".join(masks) + " (lower is better); in brackets: / floor.",
        "",
        "| sampler | NFE | W2 | W2 / floor | known max abs delta |",
        "|---|---:|---|---|---:|",
    ]
    for row in sorted(res["rows"].values(), key=lambda r: (r["budget"], r["sampler"])):
        lines.append(
            f"| {row['sampler']} | {row['nfe']} | "
            + " / ".join(f"{row['w2'][m]:.3f}" for m in masks)
            + " | "
            + " / ".join(f"{row['w2'][m] / fl[m]['mean']:.2f}" for m in masks)
            + f" | {row['known_max_abs_delta']:.1e} |"
        )
    lines.append(
        "| exact sampler (floor, mean ± sd) | - | "
        + " / ".join(f"{fl[m]['mean']:.3f} ± {fl[m]['std']:.3f}" for m in masks)
        + " | 1 | - |"
    )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS))
    parser.add_argument("--samplers", nargs="+", default=["langevin_pc", "repaint_power", "lanpaint"])
    parser.add_argument("--lanpaint-lambda", type=float, default=4.0)
    parser.add_argument("--gauss-n", type=int, default=2000)
    parser.add_argument("--floor-draws", type=int, default=10)
    parser.add_argument("--length-scale", type=float, default=1.5)
    parser.add_argument("--jitter", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--digits", type=int, nargs="*", help="budgets: digits agreement of ours")
    parser.add_argument("--digits-n", type=int, default=100)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    path = args.out / ("conditional.json" if args.seed == 0 else f"conditional_seed{args.seed}.json")
    res = json.loads(path.read_text()) if path.exists() else {"rows": {}}

    if args.digits:
        setup = bq.load_digits_setup(args)
        keep = 1.0 - setup["mask"]
        for budget in args.digits:
            steps = ours_steps(budget)
            start = time.perf_counter()
            den = KnownRegionDenoiser(
                bq.ADMDenoiser(setup["model"]),
                setup["known"],
                setup["mask"],
                seed=args.seed + 1,
                fixed_noise=True,
            )
            sig = power_sigmas(steps).float()
            x = sig[0] * torch.randn(setup["known"].shape, generator=torch.Generator().manual_seed(args.seed))
            out = sample_langevin_pc(den, x, sig, {"seed": args.seed + 2}, disable=True)
            row = {
                "nfe": langevin_nfe(sig, CORRECTOR_STEPS),
                "agreement": setup["agree"](out),
                "n": args.digits_n,
                "known_max_abs_delta": float(((out - setup["known"]) * keep).abs().max()),
            }
            res.setdefault("digits", {})[f"langevin_pc {budget}"] = row
            print(
                f"[digits] langevin_pc NFE {row['nfe']}: agreement {row['agreement']:.3f} ({time.perf_counter() - start:.0f} s)"
            )
            path.write_text(json.dumps(res, indent=1) + "\n")
        return 0

    prior, x_known, cases = bq.gauss_setup(args)
    res["floor"] = floor(cases, args.gauss_n, args.floor_draws, args.seed)
    res["setup"] = {"samples": args.gauss_n, "seed": args.seed, "lanpaint_lambda": args.lanpaint_lambda}
    runners = {"langevin_pc": run_langevin, "repaint_power": run_repaint_power, "lanpaint": run_lanpaint}
    for budget in args.budgets:
        for name in args.samplers:
            start = time.perf_counter()
            row = {"sampler": name, "budget": budget, "w2": {}, "known_max_abs_delta": 0.0}
            for m, case in cases.items():
                kw = {"lam": args.lanpaint_lambda} if name == "lanpaint" else {}
                out, nfe = runners[name](prior, x_known, case, budget, args.gauss_n, args.seed, **kw)
                out = out.double()
                row["nfe"] = nfe
                row["w2"][m] = bq.w2_samples(out[:, case["unknown_idx"]], case["mean"], case["cov"])
                if name != "repaint_power":  # (bq's runner checks its known part itself)
                    known_idx = case["mask"] < 0.5
                    delta = (out[:, known_idx] - x_known[known_idx].float().double()).abs().max()
                    row["known_max_abs_delta"] = max(row["known_max_abs_delta"], float(delta))
            row["wall_s"] = round(time.perf_counter() - start, 1)
            res["rows"][f"{name} {budget}"] = row
            print(
                f"{name:14s} budget {budget:5d} NFE {row['nfe']:5d}  "
                + "  ".join(f"{m} {v:.3f}" for m, v in row["w2"].items())
                + f"  ({row['wall_s']} s)",
                flush=True,
            )
            path.write_text(json.dumps(res, indent=1) + "\n")
    table = render(res)
    print(table)
    (args.out / path.with_suffix(".md").name).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Issue 4, section 4: quality per NFE. Candidates at <= 460 NFE against the Gaussian W2 that RePaint
(250, 10, 10) reaches with 2,410 NFE (from ``bench/results/latest.json``, part ``gaussian``), on all
three masks, and their digits agreement against RePaint (100, 10, 5) at the same NFE.

    /work/main/.venv/bin/python bench/bench_repaint_goal.py                  # Gaussian, every candidate
    /work/main/.venv/bin/python bench/bench_repaint_goal.py --only NAME ...  # some candidates
    /work/main/.venv/bin/python bench/bench_repaint_goal.py --digits NAME    # digits agreement of one

Only parameter choices of the existing sampler are tried (no new sampler code): the respaced step
count T, jump_length j, jump_n_sample r, eta, the resampling window (start_percent, end_percent of
:func:`samplers.jump_schedule`) and the step placement. ``placement = "power p"`` takes fractional DDPM
timesteps ``t_k = 999 * (k / (T - 1)) ** p`` (k = 0 .. T-1; p > 1 puts more steps at low noise, where
the Gaussian's and the digits' conditioning happens; p = 1 is guided-diffusion's even respacing up to
rounding), sigmas by log-sigma interpolation of the linear-beta T = 1000 schedule. The set-up (prior,
masks, known values, seeds, sample counts) is the quality benchmark's. Results are merged by name
into ``bench/results/goal.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
from bench import bench_repaint_quality as bq  # noqa: E402
from repaint_extend.samplers import jump_schedule, schedule_moves  # noqa: E402

CANDIDATES = [
    dict(name="RePaint (100,10,5)", T=100, j=10, r=5),
    dict(name="RePaint (50,5,10)", T=50, j=5, r=10),
    dict(name="RePaint (50,10,11)", T=50, j=10, r=11),
    dict(name="RePaint (25,5,22)", T=25, j=5, r=22),
    dict(name="(100,10,7) resample at progress >= 0.45", T=100, j=10, r=7, start=0.45),
    dict(name="(100,10,10) resample at progress >= 0.6", T=100, j=10, r=10, start=0.6),
    dict(name="(100,10,5) power-2 placement", T=100, j=10, r=5, placement=2.0),
    dict(name="(50,5,10) power-2 placement", T=50, j=5, r=10, placement=2.0),
    dict(name="(50,10,11) power-2 placement", T=50, j=10, r=11, placement=2.0),
    dict(name="(100,10,5) power-1.5 placement", T=100, j=10, r=5, placement=1.5),
    dict(name="(50,5,10) power-1.5 placement", T=50, j=5, r=10, placement=1.5),
    dict(name="(100,10,5) eta 0.5", T=100, j=10, r=5, eta=0.5),
    dict(name="(50,5,11) power-2, resample at progress >= 0.25", T=50, j=5, r=11, placement=2.0, start=0.25),
    dict(name="(50,5,14) power-2, resample at progress >= 0.4", T=50, j=5, r=14, placement=2.0, start=0.4),
    dict(name="(40,4,12) power-2", T=40, j=4, r=12, placement=2.0),
    dict(name="(60,5,8) power-2", T=60, j=5, r=8, placement=2.0),
    dict(name="(50,3,9) power-2", T=50, j=3, r=9, placement=2.0),
    dict(name="(50,5,10) power-2.5", T=50, j=5, r=10, placement=2.5),
    dict(name="(50,5,10) power-2, eta 0.8", T=50, j=5, r=10, placement=2.0, eta=0.8),
    dict(name="(50,5,17) power-2, resample at progress >= 0.5", T=50, j=5, r=17, placement=2.0, start=0.5),
    dict(name="(50,5,21) power-2, resample at progress >= 0.6", T=50, j=5, r=21, placement=2.0, start=0.6),
    dict(name="(50,5,14) power-2.5, resample at progress >= 0.4", T=50, j=5, r=14, placement=2.5, start=0.4),
    dict(name="(50,5,17) power-2.5, resample at progress >= 0.5", T=50, j=5, r=17, placement=2.5, start=0.5),
    dict(name="(40,4,18) power-2, resample at progress >= 0.4", T=40, j=4, r=18, placement=2.0, start=0.4),
    dict(name="(50,5,21) power-2.5, resample at progress >= 0.6", T=50, j=5, r=21, placement=2.5, start=0.6),
    dict(name="(50,5,17) power-3, resample at progress >= 0.5", T=50, j=5, r=17, placement=3.0, start=0.5),
    dict(name="(60,5,14) power-2.5, resample at progress >= 0.5", T=60, j=5, r=14, placement=2.5, start=0.5),
]


def sigmas_for(c: dict) -> torch.Tensor:
    """Decreasing sigmas ``[T + 1]`` ending at 0 for a candidate (float64)."""
    p = c.get("placement")
    if p is None:
        return bq.repaint_sigmas(c["T"])
    k = torch.arange(c["T"] - 1, -1, -1, dtype=torch.float64)
    t = (bq.T_TRAIN - 1) * (k / (c["T"] - 1)) ** p
    return torch.cat([bq.SCHEDULE.t_to_sigma(t).double(), torch.zeros(1, dtype=torch.float64)])


def nfe_of(c: dict) -> int:
    """Model calls of the candidate's (windowed) schedule: its decreasing moves."""
    walk = jump_schedule(c["T"], c["j"], c["r"], c.get("start", 0.0), c.get("end", 1.0))
    return sum(1 for a, b in schedule_moves(walk) if b < a)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="+", help="candidate names (default: all)")
    parser.add_argument("--digits", nargs="+", help="candidate names to run on the digits")
    parser.add_argument("--gauss-n", type=int, default=2000)
    parser.add_argument("--digits-n", type=int, default=100)
    parser.add_argument("--length-scale", type=float, default=1.5)
    parser.add_argument("--jitter", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0, help="!= 0: recompute the target with this seed")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    by_name = {c["name"]: c for c in CANDIDATES}
    if args.digits:  # digits agreement only; figures merge into goal.json (goal_seed<N>.json for seed N)
        dpath = args.out / ("goal.json" if args.seed == 0 else f"goal_seed{args.seed}.json")
        dgoal = json.loads(dpath.read_text()) if dpath.exists() else {"rows": {}}
        setup = bq.load_digits_setup(args)
        keep = 1.0 - setup["mask"]
        for name in args.digits:
            c = by_name[name]
            start = time.perf_counter()
            out = bq.digits_ours(setup, sigmas_for(c), c["j"], c["r"], args.seed)
            row = dgoal["rows"].setdefault(name, {"spec": c, "nfe": nfe_of(c)})
            row["digits_agreement"] = setup["agree"](out)
            row["digits_n"] = args.digits_n
            row["digits_known_max_abs_delta"] = float(((out - setup["known"]) * keep).abs().max())
            print(
                f"[goal digits] {name}: NFE {row['nfe']} agreement {row['digits_agreement']:.3f} ({time.perf_counter() - start:.0f} s)"
            )
            dpath.write_text(json.dumps(dgoal, indent=1) + "\n")
        return 0

    if args.seed == 0:
        latest = json.loads((args.out / "latest.json").read_text())
        target = next(r["w2"] for r in latest["gaussian"]["rows"] if r["sampler"] == "RePaint (250,10,10)")
        path = args.out / "goal.json"
    else:  # another seed (known values, noise): recompute the target, keep the figures apart
        prior, x_known, cases = bq.gauss_setup(args)
        target = {}
        for m, case in cases.items():
            u, _ = bq.gauss_run_ours(
                prior, x_known, case, bq.repaint_sigmas(250), 10, 10, args.gauss_n, args.seed
            )
            target[m] = bq.w2_samples(u, case["mean"], case["cov"])
        path = args.out / f"goal_seed{args.seed}.json"
    goal = (
        json.loads(path.read_text()) if path.exists() else {"target_w2_repaint_250_10_10": target, "rows": {}}
    )
    goal["target_w2_repaint_250_10_10"] = target

    prior, x_known, cases = bq.gauss_setup(args)
    print("target (RePaint (250,10,10), 2410 NFE): " + "  ".join(f"{m} {v:.4f}" for m, v in target.items()))
    for c in CANDIDATES:
        if args.only and c["name"] not in args.only:
            continue
        nfe = nfe_of(c)
        assert nfe <= 460, (c["name"], nfe)
        sig = sigmas_for(c)
        w2 = {}
        start = time.perf_counter()
        for m, case in cases.items():
            u, _ = bq.gauss_run_ours(
                prior,
                x_known,
                case,
                sig,
                c["j"],
                c["r"],
                args.gauss_n,
                args.seed,
                eta=c.get("eta", 1.0),
                start=c.get("start", 0.0),
                end=c.get("end", 1.0),
            )
            w2[m] = bq.w2_samples(u, case["mean"], case["cov"])
        row = goal["rows"].setdefault(c["name"], {})
        row.update({"spec": c, "nfe": nfe, "w2": w2, "reaches_target": all(w2[m] <= target[m] for m in w2)})
        print(
            f"{c['name']:45s} NFE {nfe:4d}  "
            + "  ".join(f"{m} {v:.4f}" for m, v in w2.items())
            + f"  {'REACHES' if row['reaches_target'] else '-'}  ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        path.write_text(json.dumps(goal, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

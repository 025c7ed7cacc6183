"""Issue 21: inpainting samplers against the exact conditional, on a family of priors and masks.

    .venv/bin/python -m bench.bench_family                     # the benchmark (budgets 20 .. 2400)
    .venv/bin/python -m bench.bench_family --budgets 230       # one budget
    .venv/bin/python -m bench.bench_family --quick             # a small slice (the reproducibility test)
    .venv/bin/python -m bench.bench_family tune                # the defaults' sweep (tuned part only)
    .venv/bin/python -m bench.bench_family digits              # the trained digits DDPM, step sizes

What it measures (the maths is :mod:`bench.family`, tested in ``tests/unit/test_bench_family.py``):

* Gaussian members (stationary RBF and Matern-1/2 priors, d = 16 .. 128, and an 8x8 image): the
  EXACT 2-Wasserstein distance of each sampler's output law to the exact conditional, as a fraction of
  the conditional's spread sqrt(tr C). The law is computed by running the sampler's own code on affine
  random vectors (:class:`bench.family.Affine`): no samples, no floor.
* Mixture members (2, 4 and 8 components): from ``--mix-n`` samples, the total-variation error of the
  component weights (each sample's responsibilities under the exact conditional, averaged) and the
  sliced W2 to as many exact conditional samples; each with its floor (the same statistic of exact
  samples), printed beside it.

Samplers, each at the budgets' model calls (NFE): ``ours`` (Langevin Inpaint Sampler, the shipped
defaults unless ``tune`` or ``--ours`` says otherwise), ``repaint`` (the paper's shape: r = 10, j = T/25,
linear schedule; (250, 10, 10) at 2,400), ``repaint_power`` (Power Scheduler 2.5, (T, 5, r), resampling
in the second half), ``lanpaint`` (our re-implementation, the node's defaults), ``ddnm`` (DDNM's
null-space rule, eta 0.85) and ``plain`` (replacement, DDPM). See each ``run_*`` in :mod:`bench.family`.

The family is split into a tuned part (the priors and masks the defaults were chosen on) and a
held-out part (every case with a held-out prior or a held-out mask); tables give the worst and the
median of each part. To fit the run time, at 2,400 NFE only the d = 16 members run, at 450 those
with d <= 64, and LanPaint only where NFE x d <= 230 x 64 (its exact law carries the full state and
19 noises per level: minutes per case beyond).

Outputs: ``bench/results/family.json`` (every figure, the set-up, torch / numpy versions and CPU flags)
and ``family.md`` (the tables, also printed). One torch thread per worker, ``--jobs`` workers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import torch

from bench import family as F

HERE = Path(__file__).resolve().parent
BUDGETS = (20, 50, 100, 230, 450, 2400)
SAMPLER_ORDER = ("ours", "repaint", "repaint_power", "lanpaint", "ddnm", "plain")
QUICK = {"members": ["d16-rbf2", "mix2-d16"], "masks": ["half", "random50"], "budgets": [20]}


def allowed(member: F.Member, sampler: str, budget: int) -> bool:
    """The cost rule of the module docstring: at 2,400 NFE only d = 16, at 450 d <= 64; LanPaint
    where ``budget * d <= 230 * 64`` (its exact law carries the full state and 19 noises a level)."""
    d = member.spec["d"]
    if (budget > 450 and d > 16) or (budget > 230 and d > 64):
        return False
    return not (sampler == "lanpaint" and budget * d > 230 * 64)


# ----------------------------------------------------------------------------------------------
# one job


_CASES: dict[tuple, F.Case] = {}
_FAMILY: list[F.Member] = []


def _family() -> list[F.Member]:
    """The family, built once per process."""
    if not _FAMILY:
        _FAMILY.extend(F.family())
    return _FAMILY


def _case(member_name: str, mask: str, seed: int) -> F.Case:
    key = (member_name, mask, seed)
    if key not in _CASES:
        member = next(m for m in _family() if m.name == member_name)
        _CASES[key] = F.make_case(member, mask, seed)
    return _CASES[key]


def run_job(job: dict) -> dict:
    """One sampler on one case at one budget; returns its figures."""
    torch.set_num_threads(1)
    case = _case(job["member"], job["mask"], job["seed"])
    kw = job.get("ours", {}) if job["sampler"] == "ours" else {}
    start = time.perf_counter()
    row = {k: job[k] for k in ("member", "mask", "sampler", "budget")}
    row["held_out"] = case.held_out
    if case.member.kind == "gaussian":
        out, nfe = F.SAMPLERS[job["sampler"]](case, job["budget"], F.Run(), **kw)
        w2 = F.w2_gaussian(out.mean, out.cov, *case.truth)
        row.update(kind="gaussian", nfe=nfe, w2=w2, spread=case.spread, rel_w2=w2 / case.spread)
    else:
        n = job["mix_n"]
        out, nfe = F.SAMPLERS[job["sampler"]](case, job["budget"], F.Run(False, n, job["seed"] + 7), **kw)
        weights, means, cov = case.truth
        exact = mixture_samples(case, n, job["seed"] + 11)
        est = F.mixture_weight_estimate(out, weights, means, cov)
        finite = bool(torch.isfinite(out).all())
        row.update(
            kind="mixture",
            nfe=nfe,
            weight_tv=F.tv(est, weights) if finite else float("inf"),
            sliced_w2=F.sliced_w2(out, exact) if finite else float("inf"),
            spread=case.spread,
        )
    row["wall_s"] = round(time.perf_counter() - start, 2)
    return row


def mixture_samples(case: F.Case, n: int, seed: int) -> torch.Tensor:
    """``n`` exact draws of a mixture case's conditional ``[n, u]`` (seeded; Cholesky)."""
    weights, means, cov = case.truth
    g = torch.Generator().manual_seed(seed)
    comp = torch.multinomial(weights, n, replacement=True, generator=g)
    z = torch.randn(n, cov.shape[0], generator=g, dtype=F.DTYPE)
    return means[comp] + z @ torch.linalg.cholesky(cov).T


def mixture_floors(case: F.Case, n: int, seed: int) -> dict:
    """The mixture statistics of exact samples: weight TV of ``n`` exact draws, and the sliced W2
    between two independent sets of ``n`` (the floors of the sample-based figures)."""
    weights, means, cov = case.truth
    a = mixture_samples(case, n, seed + 11)  # the reference set of run_job
    b = mixture_samples(case, n, seed + 13)
    return {
        "weight_tv": F.tv(F.mixture_weight_estimate(b, weights, means, cov), weights),
        "sliced_w2": F.sliced_w2(b, a),
    }


# ----------------------------------------------------------------------------------------------
# the tables


def _fmt(values: list[tuple[float, str]], pct: bool) -> str:
    if not values:
        return "-"
    worst = max(values)
    med = statistics.median(v for v, _ in values)
    f = (lambda v: f"{100 * v:.1f} %") if pct else (lambda v: f"{v:.3f}")
    return f"{f(worst[0])} ({worst[1]}) / {f(med)}"


def render(rows: list[dict], floors: dict, budgets) -> str:
    """One table per budget: per sampler, NFE, Gaussian W2 / spread and mixture weight TV, each as
    worst (case) / median over the tuned and held-out parts."""
    out = []
    for budget in budgets:
        sub = [r for r in rows if r["budget"] == budget]
        if not sub:
            continue
        n_cases = len({(r["member"], r["mask"]) for r in sub})
        out += [
            f"### {budget} NFE ({n_cases} cases)",
            "",
            "| sampler | NFE | Gaussian W2 / spread, tuned: worst (case) / median | held out | "
            "mixture weight TV, tuned | held out |",
            "|---|---|---|---|---|---|",
        ]
        for s in SAMPLER_ORDER:
            rs = [r for r in sub if r["sampler"] == s]
            if not rs:
                continue
            nfes = sorted({r["nfe"] for r in rs})
            cells = []
            for kind, key, pct in (("gaussian", "rel_w2", True), ("mixture", "weight_tv", False)):
                for held in (False, True):
                    vals = [
                        (r[key], f"{r['member']}/{r['mask']}")
                        for r in rs
                        if r["kind"] == kind and r["held_out"] == held
                    ]
                    cells.append(_fmt(vals, pct))
            nfe = str(nfes[0]) if len(nfes) == 1 else f"{nfes[0]}-{nfes[-1]}"
            out.append(f"| {s} | {nfe} | " + " | ".join(cells) + " |")
        fl = [v["weight_tv"] for k, v in floors.items()]
        if fl:
            out.append(f"| exact samples (floor) | - | 0 | 0 | {max(fl):.3f} (worst) | |")
        out.append("")
    return "\n".join(out)


def _not(names: list[str], most: int = 9) -> str:
    if not names:
        return ""
    return f" (not: {', '.join(names[:most])}{' ...' if len(names) > most else ''})"


def goal_report(rows: list[dict]) -> list[str]:
    """The issue's goal at <= 230 NFE, and ours against RePaint and LanPaint case by case."""
    lines = []
    ours = [r for r in rows if r["sampler"] == "ours" and r["budget"] <= 230]
    for budget in sorted({r["budget"] for r in ours}):
        g = [r for r in ours if r["budget"] == budget and r["kind"] == "gaussian"]
        m = [r for r in ours if r["budget"] == budget and r["kind"] == "mixture"]
        miss_g = [f"{r['member']}/{r['mask']}" for r in g if r["rel_w2"] > 0.05]
        miss_m = [f"{r['member']}/{r['mask']}" for r in m if r["weight_tv"] > 0.05]
        lines.append(
            f"goal at {budget} NFE: Gaussian W2 <= 5 % of spread on {len(g) - len(miss_g)}/{len(g)} cases"
            + _not(miss_g)
            + f"; mixture weight TV <= 0.05 on {len(m) - len(miss_m)}/{len(m)}"
            + _not(miss_m)
        )
    by = {(r["sampler"], r["budget"], r["member"], r["mask"]): r for r in rows}
    for budget in sorted({r["budget"] for r in rows}):
        for peer in ("repaint", "repaint_power", "lanpaint"):
            pairs = [
                (r, by.get((peer, budget, r["member"], r["mask"])))
                for r in rows
                if r["sampler"] == "ours" and r["budget"] == budget
            ]
            pairs = [(a, b) for a, b in pairs if b is not None]
            if not pairs:
                continue
            key = lambda r: r["rel_w2"] if r["kind"] == "gaussian" else r["weight_tv"]  # noqa: E731
            worse = [f"{a['member']}/{a['mask']}" for a, b in pairs if key(a) >= key(b)]
            lines.append(
                f"{budget} NFE: ours below {peer} on {len(pairs) - len(worse)}/{len(pairs)} cases"
                + _not(worse)
            )
    return lines


# ----------------------------------------------------------------------------------------------
# commands


def build_jobs(args, members, masks, budgets, samplers, ours_kw=None) -> list[dict]:
    jobs = []
    for m, mask, b, s in itertools.product(members, masks, budgets, samplers):
        if allowed(m, s, b):
            jobs.append(dict(member=m.name, mask=mask, sampler=s, budget=b, seed=args.seed, mix_n=args.mix_n))
            if ours_kw and s == "ours":
                jobs[-1]["ours"] = ours_kw
    # the dearest first, so that the workers finish together
    cost = {"lanpaint": 6.0, "repaint": 2.0, "repaint_power": 1.5, "ddnm": 1.5}
    jobs.sort(key=lambda j: -cost.get(j["sampler"], 1.0) * j["budget"] * _d(j["member"]) ** 1.5)
    return jobs


_DIMS: dict[str, int] = {}


def _d(name: str) -> int:
    if not _DIMS:
        _DIMS.update({m.name: m.spec["d"] for m in F.family()})
    return _DIMS[name]


def _progress(i: int, total: int, row: dict) -> None:
    fig = f"{100 * row['rel_w2']:.2f} %" if row["kind"] == "gaussian" else f"TV {row['weight_tv']:.3f}"
    print(
        f"[{i}/{total}] {row['sampler']} {row['budget']} {row['member']}/{row['mask']}: {fig} ({row['wall_s']} s)",
        file=sys.stderr,
        flush=True,
    )


def run_all(jobs: list[dict], n_jobs: int, log: Path | None = None) -> list[dict]:
    """Every job, in ``n_jobs`` processes; progress on stderr and, one JSON row a line, in ``log``
    (kept if the run is stopped); rows in the jobs' order."""
    sink = log.open("w") if log else None

    def done(i, row):
        _progress(i, len(jobs), row)
        if sink:
            sink.write(json.dumps(row) + "\n")
            sink.flush()

    try:
        if n_jobs <= 1:
            rows = []
            for i, j in enumerate(jobs):
                rows.append(run_job(j))
                done(i + 1, rows[-1])
            return rows
        with ProcessPoolExecutor(n_jobs) as pool:
            futures = [pool.submit(run_job, j) for j in jobs]
            for i, fut in enumerate(as_completed(futures)):
                done(i + 1, fut.result())
            return [f.result() for f in futures]
    finally:
        if sink:
            sink.close()


def select(args):
    members = F.family()
    if args.members:
        members = [m for m in members if m.name in args.members]
    return members, args.masks or list(F.BENCH_MASKS)


def cmd_bench(args) -> int:
    if args.quick:
        args.members = args.members or QUICK["members"]
        args.masks = args.masks or QUICK["masks"]
        args.budgets = args.budgets or QUICK["budgets"]
        args.mix_n = min(args.mix_n, 400)
    budgets = args.budgets or list(BUDGETS)
    members, masks = select(args)
    samplers = args.samplers or list(SAMPLER_ORDER)
    start = time.perf_counter()
    jobs = build_jobs(args, members, masks, budgets, samplers, json.loads(args.ours) if args.ours else None)
    args.out.mkdir(parents=True, exist_ok=True)
    name = args.name or ("family_quick" if args.quick else "family")
    rows = run_all(jobs, args.jobs, args.out / f"{name}.rows.jsonl")
    rows.sort(key=lambda r: (r["budget"], SAMPLER_ORDER.index(r["sampler"]), r["member"], r["mask"]))
    floors = {}
    for m in members:
        if m.kind == "mixture":
            for mask in masks:
                floors[f"{m.name}/{mask}"] = mixture_floors(
                    _case(m.name, mask, args.seed), args.mix_n, args.seed
                )
    wall = time.perf_counter() - start
    res = {
        "command": "python -m bench.bench_family " + " ".join(args.argv),
        "environment": F.environment(),
        "setup": {
            "seed": args.seed,
            "mix_n": args.mix_n,
            "members": {m.name: {**m.spec, "held_out": m.held_out, "kind": m.kind} for m in members},
            "masks": masks,
            "held_out_masks": list(F.HELD_OUT_MASKS),
            "budgets": budgets,
            "ours": json.loads(args.ours) if args.ours else "shipped defaults",
            "jobs": args.jobs,
        },
        "mixture_floors": floors,
        "rows": rows,
        "wall_s": round(wall, 1),
    }
    text = report(res)
    print(text)
    (args.out / f"{name}.rows.jsonl").unlink()
    (args.out / f"{name}.json").write_text(json.dumps(res, indent=1) + "\n")
    if not args.quick:
        (args.out / f"{name}.md").write_text(text)
    return 0


def report(res: dict) -> str:
    """The markdown of a result file: the command, one table per budget, the goal lines."""
    rows = res["rows"]
    return (
        f"Command: `{res['command'].strip()}` ({res['wall_s']:.0f} s wall, {res['setup']['jobs']} workers; "
        f"torch {res['environment']['torch']}, numpy {res['environment']['numpy']}). "
        "Figures: worst (case) / median.\n\n"
        + render(rows, res["mixture_floors"], res["setup"]["budgets"])
        + "\n"
        + "\n".join(goal_report(rows))
        + "\n"
    )


TUNE_GRID = {
    "power": (2.0, 2.5, 3.0, 3.5),
    "corrector_steps": (1, 2, 4, 6),
    "step_size": (1.0, 1.5, 1.8),
    "friction": (0.02, 0.1, 0.5),
}
DEFAULTS = {"power": 2.5, "corrector_steps": 4, "step_size": 1.5, "friction": 0.02}  # before issue 21


def cmd_tune(args) -> int:
    """Coordinate search over ours' options on the tuned part only (tuned Gaussian members x tuned
    masks), per budget: from the shipped defaults, each option in turn takes the value of
    :data:`TUNE_GRID` with the lowest WORST W2 / spread (median as tie-break), the others held."""
    members = [m for m in F.family() if not m.held_out and m.kind == "gaussian"]
    if args.members:
        members = [m for m in members if m.name in args.members]
    budgets = args.budgets or [20, 50, 100, 230, 450]
    out = {}
    for budget in budgets:
        current, trace = dict(DEFAULTS), []
        for key, values in TUNE_GRID.items():
            cands = [{**current, key: v} for v in values]
            jobs = [
                j
                for kw in cands
                for j in build_jobs(args, members, list(F.TUNED_MASKS), [budget], ["ours"], kw)
            ]
            rows = run_all(jobs, args.jobs)
            scored = []
            for kw in cands:
                vals = [r["rel_w2"] for r, j in zip(rows, jobs) if j["ours"] == kw]
                scored.append((max(vals), statistics.median(vals), kw))
                trace.append({"worst": max(vals), "median": statistics.median(vals), "ours": kw})
                print(
                    f"{budget} NFE {key}={kw[key]}: worst {100 * max(vals):.2f} % median "
                    f"{100 * statistics.median(vals):.2f} %",
                    flush=True,
                )
            current = min(scored, key=lambda t: (t[0], t[1]))[2]
        out[budget] = {"chosen": current, "trace": trace}
        print(f"--- {budget} NFE: {current}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "family_tune.json").write_text(
        json.dumps({"environment": F.environment(), "grid": TUNE_GRID, "budgets": out}, indent=1) + "\n"
    )
    return 0


def cmd_digits(args) -> int:
    """The trained digits DDPM (``pixel/weights/digits_ddpm.safetensors``, 16x16, left half unknown):
    agreement of an SVC (RBF, C = 10, trained on the 8x8 training split) with the true label of the
    completed digit, NaN / norm checks, for ours at ``--budgets`` (default 230) across step sizes up to
    the node's range, and RePaint in both forms at the same budget; ``--digits-n`` held-out digits."""
    import numpy as np
    from sklearn.svm import SVC

    from repaint_extend.pixel import ADMDenoiser, load_adm
    from repaint_extend.samplers import (
        KnownRegionDenoiser,
        langevin_nfe,
        repaint_mask,
        sample_langevin_pc,
        sample_repaint,
    )
    from training.digits import load_digits_split, to_8x8, upsample_digits

    split = load_digits_split()
    clf = SVC(C=10.0, gamma="scale").fit(
        split["x_train"].reshape(len(split["x_train"]), -1) / 16.0, split["y_train"]
    )
    n = args.digits_n
    known = upsample_digits(split["x_test"][:n], size=16)
    labels = split["y_test"][:n]
    mask = repaint_mask("half", 16, 16)[:, None]
    net, _ = load_adm(HERE.parent / "pixel" / "weights" / "digits_ddpm.safetensors")
    net.eval()

    def score(name, out, nfe, **extra):
        finite = bool(torch.isfinite(out).all())
        g = to_8x8(torch.nan_to_num(out)).reshape(n, -1).numpy() / 16.0
        row = {
            "sampler": name,
            "nfe": nfe,
            "agreement": float((clf.predict(g) == labels).mean()),
            "finite": finite,
            "max_abs": float(out.abs().max()) if finite else float("inf"),
            "known_max_abs_delta": float(((out - known) * (1 - mask)).abs().max()),
            **extra,
        }
        print(row, flush=True)
        return row

    rows = []
    blank = known * (1 - mask) - mask
    rows.append(score("blank (left half background)", blank, 0))
    for budget in args.budgets or [230]:
        steps = F.ours_steps(budget, 4)
        sig = F.power_sigmas(steps, F.LANGEVIN_POWER).float()
        for step in (1.0, 1.5, 1.8, 1.95):
            den = KnownRegionDenoiser(ADMDenoiser(net), known, mask, seed=args.seed + 1, fixed_noise=True)
            x = sig[0] * torch.randn(known.shape, generator=torch.Generator().manual_seed(args.seed))
            out = sample_langevin_pc(den, x, sig, {"seed": args.seed + 2}, disable=True, step_size=step)
            rows.append(score("ours", out, langevin_nfe(sig, 4), step_size=step, budget=budget))
        for name, (t, j, r), sig_r, start in (
            ("repaint", F.repaint_paper_spec(budget), None, 0.0),
            ("repaint_power", F.repaint_power_spec(budget), "power", 0.5),
        ):
            sig_r = F.power_sigmas(t, 2.5) if sig_r else F.linear_sigmas(t)
            den = KnownRegionDenoiser(ADMDenoiser(net), known, mask, seed=args.seed + 1)
            x = sig_r[0].float() * torch.randn(
                known.shape, generator=torch.Generator().manual_seed(args.seed)
            )
            out = sample_repaint(
                den,
                x,
                sig_r.float(),
                {"seed": args.seed + 2},
                disable=True,
                jump_length=j,
                jump_n_sample=r,
                start_percent=start,
            )
            rows.append(score(name, out, F.repaint_nfe(t, j, r, start), budget=budget))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "family_digits.json").write_text(
        json.dumps(
            {
                "environment": F.environment(),
                "n": n,
                "seed": args.seed,
                "rows": rows,
                "sd_of_agreement": float(np.sqrt(0.25 / n)),
            },
            indent=1,
        )
        + "\n"
    )
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", default="bench", choices=["bench", "tune", "digits"])
    parser.add_argument("--digits-n", type=int, default=50, help="digits: held-out digits")
    parser.add_argument("--budgets", type=int, nargs="+")
    parser.add_argument("--samplers", nargs="+", choices=SAMPLER_ORDER)
    parser.add_argument("--members", nargs="+", help="member names (default: the whole family)")
    parser.add_argument("--masks", nargs="+", choices=F.MASKS)
    parser.add_argument(
        "--ours", help='JSON of sample_langevin_pc options and "power", e.g. \'{"power": 3}\''
    )
    parser.add_argument("--quick", action="store_true", help="a small slice; writes family_quick.json only")
    parser.add_argument("--mix-n", type=int, default=2000, help="samples per mixture case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--name", help="result file stem (default family / family_quick)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    args.argv = argv
    torch.set_num_threads(1)
    return {"tune": cmd_tune, "digits": cmd_digits}.get(args.command, cmd_bench)(args)


if __name__ == "__main__":
    sys.exit(main())

"""RePaint quality and speed benchmark (issue 4, section 3): exact-Gaussian W2, digits inpainting,
diffusers' RePaintScheduler as a peer, and peak memory.

    /work/main/.venv/bin/python bench/bench_repaint_quality.py                 # everything
    /work/main/.venv/bin/python bench/bench_repaint_quality.py --parts gaussian  # one part

Parts (``--parts``, any of them, in this order):

``gaussian``
    Prior x0 ~ N(0, Sigma) on an 8x8 grid (d = 64), Sigma = squared-exponential kernel (length scale
    ``--length-scale`` grid units, unit variance) + ``--jitter`` * I. In the VE convention x = x0 + sigma*eps
    the denoiser is exact: E[x0 | x] = Sigma (Sigma + sigma^2 I)^-1 x, and the known part fixes the
    unknown part's conditional N(mu, C) in closed form (Schur complement). One prior draw (seed
    ``--seed``) gives the known values. Masks are the pack's presets on the 8x8 grid: ``half`` (left 4
    columns unknown), ``every_second_line`` (odd rows unknown), ``expand`` (only the centre 4x4 known).
    Each sampler draws ``--gauss-n`` samples; we fit a Gaussian (sample mean and covariance) to their
    unknown part and report the 2-Wasserstein distance to N(mu, C),
    W2^2 = |m1 - m2|^2 + tr(C1 + C2 - 2 (C2^1/2 C1 C2^1/2)^1/2) (Dowson & Landau 1982;
    Givens & Shortt 1984). The noise floor is the W2 of the Gaussian fit of as many exact samples of
    N(mu, C) (mean and spread over ``--floor-draws`` draws). Sigmas are the real RePaint schedule:
    guided-diffusion's linear beta, T = 1000, respaced by ``space_timesteps`` (``sigma_t =
    sqrt((1 - abar_t) / abar_t)``); plain replacement (jump_n_sample = 1) at the RePaint NFE uses
    ``steps = NFE``, and above 1,000 steps (more than the DDPM has) fractional timesteps evenly spaced in
    [0, 999], log sigma interpolated (``DiscreteSchedule.t_to_sigma``).

``digits``
    The first ``--digits-n`` held-out digits of the fixed split (``training.digits``), 16x16, left half
    (the left 4 of 8 columns) unknown, inpainted by the digits DDPM (``ADMDenoiser`` +
    ``KnownRegionDenoiser`` + ``sample_repaint``) with the RePaint configs ``--digits-configs`` and plain
    replacement at equal NFE. A scikit-learn SVC (RBF, C = 10) trained on the 8x8 training split
    classifies the result (``training.digits.to_8x8``); we report agreement with the true label, against
    the blank baseline (masked half set to background, grey 0) and the classifier's accuracy on the
    unmasked digits; and the known-pixel max |delta| (must be 0).

``peer``
    diffusers' ``RePaintScheduler`` (``set_timesteps(T, jump_length, jump_n_sample)``, ``step``,
    ``undo_step``) driven by our own copy of the loop of ``RePaintPipeline.__call__``, eta = 1 (DDPM
    posterior, as ours), ``clip_sample=False`` (ours does not clip), on the same UNet (its epsilon
    output, VP input x_t, integer timestep) and the same jump schedule, against ours on diffusers'
    timesteps (``t = k * (1000 // T)``). Ours and diffusers run alternately on halves of the batch
    (A B B A); the time ratio is of the summed times. Quality: digits agreement, and Gaussian W2 with
    the exact denoiser in VP form (eps = (x_t - sqrt(abar) x0_hat) / sqrt(1 - abar)). Also the
    sampler overhead alone: the same loops with a free model (eps = 0) on the digits batch.

Memory: each run's peak resident set size above the RSS at its start, sampled every 2 ms from
``/proc/self/statm`` by a thread (after glibc ``malloc_trim(0)``, so that freed memory is handed back
first); it covers torch's C allocations, which tracemalloc does not see.

Outputs in ``--out`` (default ``bench/results``): ``latest.json`` (figures of every part run so far,
merged by part), ``quality.md`` (the markdown table, also printed) and ``quality.png``.
One thread (``torch.set_num_threads(1)``); timings are CPU wall times on this machine.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
from bench.memory import PeakRSS  # noqa: E402
from repaint_extend.pixel import ADMDenoiser, DiscreteSchedule, load_adm, space_timesteps  # noqa: E402
from repaint_extend.samplers import (  # noqa: E402
    KnownRegionDenoiser,
    repaint_mask,
    sample_repaint,
    schedule_nfe,
)
from training.digits import load_digits_split, to_8x8, upsample_digits  # noqa: E402

WEIGHTS = HERE.parent / "repaint_extend" / "pixel" / "weights" / "digits_ddpm.safetensors"
T_TRAIN = 1000
REPAINT_CONFIGS = [(250, 10, 10), (100, 10, 5), (50, 5, 5)]
GAUSS_MASKS = ("half", "every_second_line", "expand")


# ----------------------------------------------------------------------------------------------
# memory


def timed(fn, *fn_args, **fn_kwargs):
    """Run ``fn(*fn_args, **fn_kwargs)``; return (result, wall seconds, peak RSS delta in MiB)."""
    with PeakRSS() as mem:
        start = time.perf_counter()
        out = fn(*fn_args, **fn_kwargs)
        wall = time.perf_counter() - start
    return out, wall, mem.peak_bytes / 2**20


# ----------------------------------------------------------------------------------------------
# schedules


SCHEDULE = DiscreteSchedule()  # linear beta, T = 1000 (guided-diffusion / RePaint)


def repaint_sigmas(steps: int) -> torch.Tensor:
    """RePaint's sigmas for ``steps`` respaced steps (``space_timesteps``), ending at 0, float64.
    Above T = 1000 steps: fractional timesteps evenly spaced in [0, 999] (log sigma interpolated)."""
    if steps <= T_TRAIN:
        return SCHEDULE.sigmas_for_timesteps(space_timesteps(T_TRAIN, steps)).double()
    t = torch.linspace(T_TRAIN - 1, 0, steps, dtype=torch.float64)
    return torch.cat([SCHEDULE.t_to_sigma(t).double(), torch.zeros(1, dtype=torch.float64)])


def diffusers_sigmas(steps: int) -> torch.Tensor:
    """Sigmas at diffusers' RePaint timesteps ``k * (1000 // steps)``, k = 0 .. steps-1, ending at 0."""
    stride = T_TRAIN // steps
    return SCHEDULE.sigmas_for_timesteps(range(0, stride * steps, stride)).double()


# ----------------------------------------------------------------------------------------------
# Gaussian


class GaussianPrior:
    """x0 ~ N(0, Sigma) on a ``side`` x ``side`` grid, squared-exponential kernel
    ``exp(-|p - q|^2 / (2 l^2))`` plus ``jitter * I``; analytic denoisers and conditionals."""

    def __init__(self, side: int = 8, length_scale: float = 1.5, jitter: float = 1e-2):
        yy, xx = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
        p = torch.stack([yy.reshape(-1), xx.reshape(-1)], 1).double()
        d2 = ((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)
        self.side, self.d = side, side * side
        self.cov = torch.exp(-d2 / (2 * length_scale**2)) + jitter * torch.eye(self.d, dtype=torch.float64)
        self.lam, self.U = torch.linalg.eigh(self.cov)

    def gain(self, sigma: float) -> torch.Tensor:
        """Sigma (Sigma + sigma^2 I)^-1, ``[d, d]``."""
        return (self.U * (self.lam / (self.lam + sigma * sigma))) @ self.U.T

    def ve_denoiser(self):
        """k-diffusion denoiser ``(x [B, d], sigma [B]) -> E[x0 | x]`` (x = x0 + sigma eps)."""

        def model(x, sigma, **kwargs):
            return x @ self.gain(float(sigma.reshape(-1)[0])).to(x.dtype)  # the gain is symmetric

        return model

    def vp_eps(self, alphas_cumprod: torch.Tensor):
        """epsilon model ``(x_t [B, d], t int) -> E[eps | x_t]`` for x_t = sqrt(abar) x0 + sqrt(1 - abar) eps."""

        def eps(x_t, t):
            abar = float(alphas_cumprod[int(t)])
            sigma = math.sqrt((1 - abar) / abar)
            x0 = (x_t / math.sqrt(abar)) @ self.gain(sigma).to(x_t.dtype)
            return (x_t - math.sqrt(abar) * x0) / math.sqrt(1 - abar)

        return eps

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        z = torch.randn(n, self.d, generator=generator, dtype=torch.float64)
        return (z * self.lam.clamp(min=0).sqrt()) @ self.U.T

    def conditional(self, known: torch.Tensor, unknown_idx: torch.Tensor):
        """Mean ``[u]`` and covariance ``[u, u]`` of the unknown coordinates given ``known [d]``."""
        k_idx = torch.tensor([i for i in range(self.d) if i not in set(unknown_idx.tolist())])
        s_uu = self.cov[unknown_idx][:, unknown_idx]
        s_uk = self.cov[unknown_idx][:, k_idx]
        s_kk = self.cov[k_idx][:, k_idx]
        a = torch.linalg.solve(s_kk, s_uk.T).T
        return a @ known[k_idx], s_uu - a @ s_uk.T


def _sqrtm_psd(a: torch.Tensor) -> torch.Tensor:
    w, v = torch.linalg.eigh((a + a.T) / 2)
    return (v * w.clamp(min=0).sqrt()) @ v.T


def w2_gaussian(m1, c1, m2, c2) -> float:
    """2-Wasserstein distance between N(m1, c1) and N(m2, c2) (Dowson & Landau 1982; Givens & Shortt
    1984): W2^2 = |m1 - m2|^2 + tr(c1 + c2 - 2 (c2^1/2 c1 c2^1/2)^1/2)."""
    r2 = _sqrtm_psd(c2)
    cross = _sqrtm_psd(r2 @ c1 @ r2)
    w2sq = float(((m1 - m2) ** 2).sum() + torch.trace(c1 + c2 - 2 * cross))
    return math.sqrt(max(w2sq, 0.0))


def w2_samples(samples: torch.Tensor, mean: torch.Tensor, cov: torch.Tensor) -> float:
    """W2 between the Gaussian fit (sample mean, unbiased covariance) of ``samples [n, u]`` and N(mean, cov)."""
    s = samples.double()
    return w2_gaussian(s.mean(0), torch.cov(s.T), mean, cov)


def gauss_setup(args):
    prior = GaussianPrior(8, args.length_scale, args.jitter)
    x_known = prior.sample(1, torch.Generator().manual_seed(args.seed))[0]
    cases = {}
    for name in GAUSS_MASKS:
        mask = repaint_mask(name, 8, 8)[0].reshape(-1).double()  # 1 = generate
        unknown_idx = torch.nonzero(mask > 0.5)[:, 0]
        mean, cov = prior.conditional(x_known, unknown_idx)
        cases[name] = dict(mask=mask, unknown_idx=unknown_idx, mean=mean, cov=cov)
    return prior, x_known, cases


def gauss_run_ours(prior, x_known, case, sigmas, j, r, n, seed, eta=1.0, start=0.0, end=1.0):
    """Our sampler on the Gaussian, in float32 (torch's float64 randn is 4x slower; the W2 analysis is
    float64); returns the unknown part ``[n, u]`` float64 and the known max |delta|."""
    mask = case["mask"][None].float()
    known = x_known[None].float()
    model = KnownRegionDenoiser(prior.ve_denoiser(), known, mask, seed=seed + 1)
    x = sigmas[0].float() * torch.randn(n, prior.d, generator=torch.Generator().manual_seed(seed))
    out = sample_repaint(
        model,
        x,
        sigmas.float(),
        {"seed": seed + 2},
        disable=True,
        jump_length=j,
        jump_n_sample=r,
        eta=eta,
        start_percent=start,
        end_percent=end,
    )
    known_delta = float(((out - known) * (1 - mask)).abs().max())
    return out[:, case["unknown_idx"]].double(), known_delta


# ----------------------------------------------------------------------------------------------
# diffusers peer


def diffusers_check() -> dict:
    """Read diffusers' RePaintScheduler.step: the known region must be noised with std sqrt(1 - abar_prev)
    (0.32.0-0.32.2 used the variance (1 - abar_prev) instead, i.e. too little noise)."""
    import inspect

    import diffusers
    from diffusers import RePaintScheduler

    src = "".join(inspect.getsource(RePaintScheduler.step).split())
    ok = "prev_known_part=(alpha_prod_t_prev**0.5)*original_image+((1-alpha_prod_t_prev)**0.5)*noise" in src
    return {"version": diffusers.__version__, "known_region_noise_std_ok": bool(ok)}


def diffusers_repaint(eps_model, original, keep, shape, steps, j, r, generator, dtype=torch.float32):
    """Our copy of ``RePaintPipeline.__call__``'s loop (diffusers 0.42.1) around ``RePaintScheduler``.

    Args:
        eps_model: ``(x_t, t int) -> eps``, VP input.
        original: the known image in [-1, 1] (VP x0), broadcastable to ``shape``.
        keep: diffusers' mask, 1 = known, 0 = inpaint.
        shape: shape of the sample; steps, j, r: num_inference_steps, jump_length, jump_n_sample.

    Returns:
        (final sample, NFE).
    """
    from diffusers import RePaintScheduler

    scheduler = RePaintScheduler(
        num_train_timesteps=T_TRAIN, beta_schedule="linear", eta=1.0, clip_sample=False
    )
    image = torch.randn(shape, generator=generator, dtype=dtype)
    scheduler.set_timesteps(steps, j, r)
    scheduler.eta = 1.0
    t_last = scheduler.timesteps[0] + 1
    nfe = 0
    for t in scheduler.timesteps:
        if t < t_last:
            model_output = eps_model(image, t)
            nfe += 1
            image = scheduler.step(model_output, t, image, original, keep, generator).prev_sample
        else:
            image = scheduler.undo_step(image, t_last, generator)
        t_last = t
    return image, nfe


# ----------------------------------------------------------------------------------------------
# parts


def part_gaussian(args) -> dict:
    prior, x_known, cases = gauss_setup(args)
    n = args.gauss_n
    res = {
        "setup": {
            "grid": "8x8",
            "d": 64,
            "kernel": "squared exponential",
            "length_scale": args.length_scale,
            "jitter": args.jitter,
            "samples": n,
            "seed": args.seed,
            "unknown_dims": {m: int(c["unknown_idx"].numel()) for m, c in cases.items()},
            "conditional_trace": {m: float(torch.trace(c["cov"])) for m, c in cases.items()},
        },
        "rows": [],
    }
    gen = torch.Generator().manual_seed(args.seed + 100)
    floor = {}
    for m, c in cases.items():
        chol = torch.linalg.cholesky(c["cov"] + 1e-12 * torch.eye(len(c["mean"]), dtype=torch.float64))
        vals = []
        for _ in range(args.floor_draws):
            z = torch.randn(n, len(c["mean"]), generator=gen, dtype=torch.float64)
            vals.append(w2_samples(c["mean"] + z @ chol.T, c["mean"], c["cov"]))
        floor[m] = {
            "mean": float(np.mean(vals)),
            "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0,
        }
    res["noise_floor"] = floor
    print(
        f"[gaussian] samples {n}; noise floor W2 "
        + ", ".join(f"{m} {v['mean']:.4f}±{v['std']:.4f}" for m, v in floor.items())
    )

    def add(name, kind, steps, j, r, sigmas, nfe):
        row = {
            "sampler": name,
            "kind": kind,
            "steps": steps,
            "jump_length": j,
            "jump_n_sample": r,
            "nfe": nfe,
            "w2": {},
            "known_max_abs_delta": 0.0,
            "wall_s": {},
            "peak_rss_mib": {},
        }
        for m, c in cases.items():
            (u, kd), wall, mib = timed(gauss_run_ours, prior, x_known, c, sigmas, j, r, n, args.seed)
            row["w2"][m] = w2_samples(u, c["mean"], c["cov"])
            row["known_max_abs_delta"] = max(row["known_max_abs_delta"], kd)
            row["wall_s"][m], row["peak_rss_mib"][m] = round(wall, 3), round(mib, 2)
        res["rows"].append(row)
        print(
            f"[gaussian] {name:28s} NFE {nfe:5d}  "
            + "  ".join(f"{m} {w:.4f}" for m, w in row["w2"].items())
            + f"  known|Δ| {row['known_max_abs_delta']:.1e}"
        )

    for steps, j, r in REPAINT_CONFIGS:
        nfe = schedule_nfe(steps, j, r)
        add(f"RePaint ({steps},{j},{r})", "repaint", steps, j, r, repaint_sigmas(steps), nfe)
        add(f"plain replacement, {nfe} steps", "plain", nfe, 1, 1, repaint_sigmas(nfe), nfe)
    return res


def load_digits_setup(args):
    from sklearn.svm import SVC

    split = load_digits_split()
    clf = SVC(C=10.0, gamma="scale").fit(
        split["x_train"].reshape(len(split["x_train"]), -1) / 16.0, split["y_train"]
    )
    n = args.digits_n
    x8, y = split["x_test"][:n], split["y_test"][:n]
    known = upsample_digits(x8, size=16)  # [n, 3, 16, 16] in [-1, 1]
    mask = repaint_mask("half", 16, 16)[:, None]  # [1, 1, 16, 16], 1 = generate (left half)
    model, _ = load_adm(WEIGHTS)
    model.eval()
    with torch.no_grad():  # warm-up, so that one-time allocations do not count in the first run's memory
        model(known, torch.full((len(known),), 500.0))

    def agree(images: torch.Tensor) -> float:
        g = to_8x8(images).reshape(len(images), -1).numpy() / 16.0
        return float((clf.predict(g) == y).mean())

    acc_all = float(
        (clf.predict(split["x_test"].reshape(len(split["x_test"]), -1) / 16.0) == split["y_test"]).mean()
    )
    return dict(clf=clf, known=known, mask=mask, y=y, model=model, agree=agree, acc_full_test=acc_all)


def digits_ours(setup, sigmas, j, r, seed, chunk=None):
    """Ours on the digits batch (or ``chunk``, a slice); returns the inpainted images."""
    known = setup["known"] if chunk is None else setup["known"][chunk]
    den = KnownRegionDenoiser(ADMDenoiser(setup["model"]), known, setup["mask"], seed=seed + 1)
    x = sigmas[0].float() * torch.randn(known.shape, generator=torch.Generator().manual_seed(seed))
    return sample_repaint(
        den, x, sigmas.float(), {"seed": seed + 2}, disable=True, jump_length=j, jump_n_sample=r
    )


def digits_diffusers(setup, steps, j, r, seed, chunk=None):
    known = setup["known"] if chunk is None else setup["known"][chunk]
    net = setup["model"]

    def eps(x_t, t):
        with torch.no_grad():
            return net(x_t, torch.full((x_t.shape[0],), float(t)))[:, : x_t.shape[1]]

    out, _ = diffusers_repaint(
        eps, known, 1.0 - setup["mask"], known.shape, steps, j, r, torch.Generator().manual_seed(seed)
    )
    return out


def part_digits(args) -> dict:
    """Digits agreement of RePaint and plain replacement (``--digits-kinds``) per ``--digits-configs``."""
    s = load_digits_setup(args)
    keep = 1.0 - s["mask"]
    blank = s["known"] * keep + (-1.0) * s["mask"]
    res = {
        "setup": {
            "n": args.digits_n,
            "subset": f"first {args.digits_n} of the 450 held-out digits",
            "mask": "left half (left 4 of 8 columns) unknown",
            "classifier": "SVC(rbf, C=10) on the 8x8 training split (x/16)",
            "seed": args.seed,
        },
        "classifier_acc_full_test": s["acc_full_test"],
        "classifier_acc_unmasked_subset": s["agree"](s["known"]),
        "blank_agreement": s["agree"](blank),
        "rows": [],
    }
    print(
        f"[digits] n {args.digits_n}; classifier acc: all 450 unmasked {res['classifier_acc_full_test']:.3f}, subset unmasked {res['classifier_acc_unmasked_subset']:.3f}, blank half {res['blank_agreement']:.3f}"
    )
    for cfg in args.digits_configs:
        steps, j, r = cfg
        nfe = schedule_nfe(steps, j, r)
        runs = (
            (f"RePaint ({steps},{j},{r})", "repaint", steps, j, r),
            (f"plain replacement, {nfe} steps", "plain", nfe, 1, 1),
        )
        for name, kind, st, jj, rr in (run for run in runs if run[1] in args.digits_kinds):
            out, wall, mib = timed(digits_ours, s, repaint_sigmas(st), jj, rr, args.seed)
            row = {
                "sampler": name,
                "kind": kind,
                "steps": st,
                "jump_length": jj,
                "jump_n_sample": rr,
                "nfe": nfe,
                "agreement": s["agree"](out),
                "known_max_abs_delta": float(((out - s["known"]) * keep).abs().max()),
                "wall_s": round(wall, 2),
                "peak_rss_mib": round(mib, 2),
            }
            res["rows"].append(row)
            print(
                f"[digits] {name:28s} NFE {nfe:5d}  agreement {row['agreement']:.3f}  known|Δ| {row['known_max_abs_delta']:.1e}  {wall:.1f} s  {mib:.1f} MiB"
            )
    return res


def part_peer(args) -> dict:
    check = diffusers_check()
    print(
        f"[peer] diffusers {check['version']}; known-region noise std sqrt(1 - abar_prev): {check['known_region_noise_std_ok']}"
    )
    steps, j, r = args.peer_config
    nfe = schedule_nfe(steps, j, r)
    res = {"diffusers": check, "config": [steps, j, r], "nfe": nfe}
    # digits, A B B A on halves of the batch
    s = load_digits_setup(args)
    keep = 1.0 - s["mask"]
    n = args.digits_n
    halves = [slice(0, n // 2), slice(n // 2, n)]
    sig = diffusers_sigmas(steps)
    outs = {"ours": [None, None], "diffusers": [None, None]}
    times = {"ours": 0.0, "diffusers": 0.0}
    mem = {"ours": 0.0, "diffusers": 0.0}
    order = [("ours", 0), ("diffusers", 0), ("diffusers", 1), ("ours", 1)]
    for who, h in order:
        if who == "ours":
            out, wall, mib = timed(digits_ours, s, sig, j, r, args.seed + h, halves[h])
        else:
            out, wall, mib = timed(digits_diffusers, s, steps, j, r, args.seed + h, halves[h])
        outs[who][h], times[who], mem[who] = out, times[who] + wall, max(mem[who], mib)
        print(f"[peer] digits {who:9s} half {h}: {wall:.1f} s")
    dig = {}
    for who in outs:
        out = torch.cat(outs[who])
        dig[who] = {
            "agreement": s["agree"](out),
            "known_max_abs_delta": float(((out - s["known"]) * keep).abs().max()),
            "wall_s": round(times[who], 2),
            "peak_rss_mib": round(mem[who], 2),
        }
    res["digits"] = dig
    res["time_ratio_ours_over_diffusers"] = times["ours"] / times["diffusers"]
    print(
        f"[peer] digits n {n}, ({steps},{j},{r}) NFE {nfe}: agreement ours {dig['ours']['agreement']:.3f} diffusers {dig['diffusers']['agreement']:.3f}; time ours/diffusers {res['time_ratio_ours_over_diffusers']:.3f}"
    )

    # repeated short timings: the first --peer-timing-n digits, pairs in alternating order (A B, B A, ...)
    tn = slice(0, args.peer_timing_n)
    reps = {"ours": [], "diffusers": []}
    for rep in range(args.peer_timing_repeats):
        for who in ("ours", "diffusers") if rep % 2 == 0 else ("diffusers", "ours"):
            if who == "ours":
                reps[who].append(timed(digits_ours, s, sig, j, r, args.seed, tn)[1])
            else:
                reps[who].append(timed(digits_diffusers, s, steps, j, r, args.seed, tn)[1])
    pair = sorted(o / d for o, d in zip(reps["ours"], reps["diffusers"], strict=True))
    res["timing_repeats"] = {
        "n_digits": args.peer_timing_n,
        "ours_s": [round(v, 3) for v in reps["ours"]],
        "diffusers_s": [round(v, 3) for v in reps["diffusers"]],
        "ratio_of_sums": sum(reps["ours"]) / sum(reps["diffusers"]),
        "pair_ratios_min_median_max": [pair[0], pair[len(pair) // 2], pair[-1]],
    }
    print(
        f"[peer] timing, {args.peer_timing_repeats} pairs on {args.peer_timing_n} digits: ratio of sums "
        f"{res['timing_repeats']['ratio_of_sums']:.3f}, pair ratios min/median/max "
        + "/".join(f"{v:.3f}" for v in res["timing_repeats"]["pair_ratios_min_median_max"])
    )

    # sampler overhead alone: a free model on the digits batch
    zero_x0 = lambda x, sigma, **kw: torch.zeros_like(x)  # noqa: E731

    def ours_free():
        den = KnownRegionDenoiser(zero_x0, s["known"], s["mask"], seed=1)
        x = sig[0].float() * torch.randn(s["known"].shape, generator=torch.Generator().manual_seed(0))
        return sample_repaint(den, x, sig.float(), {"seed": 2}, disable=True, jump_length=j, jump_n_sample=r)

    def diff_free():
        return diffusers_repaint(
            lambda x, t: torch.zeros_like(x),
            s["known"],
            keep,
            s["known"].shape,
            steps,
            j,
            r,
            torch.Generator().manual_seed(0),
        )

    ov = {"ours": [], "diffusers": []}
    for _ in range(3):
        for who, fn in (("ours", ours_free), ("diffusers", diff_free)):
            ov[who].append(timed(fn)[1])
    res["overhead_free_model_s"] = {k: [round(v, 4) for v in vs] for k, vs in ov.items()}
    res["overhead_ratio_ours_over_diffusers"] = sum(ov["ours"]) / sum(ov["diffusers"])
    print(
        f"[peer] sampler overhead (free model, batch {n}): ours {min(ov['ours']):.3f} s, diffusers {min(ov['diffusers']):.3f} s, ratio {res['overhead_ratio_ours_over_diffusers']:.3f}"
    )
    return res


def part_peer_gaussian(args) -> dict:
    """Gaussian W2 of ours and diffusers' RePaintScheduler (exact denoiser in VP form), every mask and
    RePaint config, both on diffusers' timesteps."""
    res = {"diffusers": diffusers_check()}
    prior, x_known, cases = gauss_setup(args)
    from diffusers import RePaintScheduler

    abar = RePaintScheduler(num_train_timesteps=T_TRAIN).alphas_cumprod.double()
    eps = prior.vp_eps(abar)
    gauss = []
    for st, jj, rr in args.peer_gauss_configs:
        row = {
            "config": [st, jj, rr],
            "nfe": schedule_nfe(st, jj, rr),
            "w2_ours": {},
            "w2_diffusers": {},
            "wall_s_ours": 0.0,
            "wall_s_diffusers": 0.0,
        }
        for m, c in cases.items():
            (u, _), w_o, _ = timed(
                gauss_run_ours, prior, x_known, c, diffusers_sigmas(st), jj, rr, args.gauss_n, args.seed
            )
            keep_g = (1 - c["mask"])[None]
            (xd, nfe_d), w_d, _ = timed(
                diffusers_repaint,
                eps,
                x_known[None].float(),
                keep_g.float(),
                (args.gauss_n, prior.d),
                st,
                jj,
                rr,
                torch.Generator().manual_seed(args.seed),
            )
            assert nfe_d == row["nfe"], (nfe_d, row["nfe"])
            row["w2_ours"][m] = w2_samples(u, c["mean"], c["cov"])
            row["w2_diffusers"][m] = w2_samples(xd[:, c["unknown_idx"]], c["mean"], c["cov"])
            row["wall_s_ours"] += w_o
            row["wall_s_diffusers"] += w_d
        gauss.append(row)
        print(
            f"[peer] gaussian ({st},{jj},{rr}) NFE {row['nfe']}: W2 ours "
            + " ".join(f"{v:.4f}" for v in row["w2_ours"].values())
            + " | diffusers "
            + " ".join(f"{v:.4f}" for v in row["w2_diffusers"].values())
            + f" | time ours/diffusers {row['wall_s_ours'] / row['wall_s_diffusers']:.3f}"
        )
    res["gaussian"] = gauss
    return res


# ----------------------------------------------------------------------------------------------
# report


def render(results: dict) -> str:
    lines = ["# RePaint quality and speed benchmark", ""]
    g = results.get("gaussian")
    if g:
        st = g["setup"]
        lines += [
            f"## Exact-Gaussian check (d = 64, SE kernel l = {st['length_scale']}, jitter {st['jitter']}, {st['samples']} samples, seed {st['seed']})",
            "",
        ]
        lines += [
            "W2 between the Gaussian fit of the inpainted unknown part and the true conditional (lower is better).",
            "",
        ]
        lines += [
            "| sampler | NFE | " + " | ".join(GAUSS_MASKS) + " | known max abs delta | peak RSS MiB |",
            "|---|---:|" + "---:|" * len(GAUSS_MASKS) + "---:|---:|",
        ]
        for row in g["rows"]:
            lines.append(
                f"| {row['sampler']} | {row['nfe']} | "
                + " | ".join(f"{row['w2'][m]:.4f}" for m in GAUSS_MASKS)
                + f" | {row['known_max_abs_delta']:.1e} | {max(row['peak_rss_mib'].values()):.1f} |"
            )
        f = g["noise_floor"]
        lines.append(
            "| exact samples (noise floor, mean ± sd) | - | "
            + " | ".join(f"{f[m]['mean']:.4f} ± {f[m]['std']:.4f}" for m in GAUSS_MASKS)
            + " | - | - |"
        )
        lines += [
            "",
            "Unknown dims: "
            + ", ".join(f"{m} {v}" for m, v in st["unknown_dims"].items())
            + "; trace of the true conditional covariance: "
            + ", ".join(f"{m} {v:.3f}" for m, v in st["conditional_trace"].items()),
            "",
        ]
    d = results.get("digits")
    if d:
        st = d["setup"]
        lines += [f"## Digits ({st['subset']}; {st['mask']}; {st['classifier']})", ""]
        lines += [
            "| sampler | NFE | agreement with label | known max abs delta | wall s | peak RSS MiB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines.append(
            f"| unmasked digits (classifier accuracy) | - | {d['classifier_acc_unmasked_subset']:.3f} (all 450: {d['classifier_acc_full_test']:.3f}) | - | - | - |"
        )
        lines.append(f"| masked half left blank | - | {d['blank_agreement']:.3f} | - | - | - |")
        for row in d["rows"]:
            lines.append(
                f"| {row['sampler']} | {row['nfe']} | {row['agreement']:.3f} | {row['known_max_abs_delta']:.1e} | {row['wall_s']:.1f} | {row['peak_rss_mib']:.1f} |"
            )
        lines.append("")
    p = results.get("peer")
    if p:
        c = p["config"]
        lines += [
            f"## Peer: diffusers {p['diffusers']['version']} RePaintScheduler, ({c[0]},{c[1]},{c[2]}), NFE {p['nfe']}, diffusers' timesteps for both",
            "",
        ]
        lines.append(
            f"Known-region noise std in diffusers' step is sqrt(1 - abar_prev) (not the 0.32.0-0.32.2 bug): {p['diffusers']['known_region_noise_std_ok']}."
        )
        lines += ["", "| | ours | diffusers | ratio ours/diffusers |", "|---|---:|---:|---:|"]
        do, dd = p["digits"]["ours"], p["digits"]["diffusers"]
        lines.append(f"| digits agreement | {do['agreement']:.3f} | {dd['agreement']:.3f} | - |")
        lines.append(
            f"| digits known max abs delta | {do['known_max_abs_delta']:.1e} | {dd['known_max_abs_delta']:.1e} | - |"
        )
        lines.append(
            f"| digits wall s (same UNet) | {do['wall_s']:.1f} | {dd['wall_s']:.1f} | {p['time_ratio_ours_over_diffusers']:.3f} |"
        )
        tr = p.get("timing_repeats")
        if tr:
            lines.append(
                f"| digits wall s, {len(tr['ours_s'])} alternating pairs on {tr['n_digits']} digits | "
                f"{sum(tr['ours_s']):.1f} | {sum(tr['diffusers_s']):.1f} | {tr['ratio_of_sums']:.3f} "
                f"(pairs {tr['pair_ratios_min_median_max'][0]:.3f}-{tr['pair_ratios_min_median_max'][2]:.3f}) |"
            )
        lines.append(f"| digits peak RSS MiB | {do['peak_rss_mib']:.1f} | {dd['peak_rss_mib']:.1f} | - |")
        lines.append(
            f"| sampler overhead s (free model, best of 3) | {min(p['overhead_free_model_s']['ours']):.3f} | {min(p['overhead_free_model_s']['diffusers']):.3f} | {p['overhead_ratio_ours_over_diffusers']:.3f} |"
        )
    pg = results.get("peer_gaussian")
    if pg:
        lines += [
            "",
            f"Gaussian W2 ({' / '.join(GAUSS_MASKS)}), diffusers {pg['diffusers']['version']} vs ours, diffusers' timesteps for both, exact denoiser:",
            "",
            "| config | NFE | ours | diffusers | time ours/diffusers |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in pg["gaussian"]:
            cc = row["config"]
            lines.append(
                f"| ({cc[0]},{cc[1]},{cc[2]}) | {row['nfe']} | "
                + " / ".join(f"{row['w2_ours'][m]:.4f}" for m in GAUSS_MASKS)
                + " | "
                + " / ".join(f"{row['w2_diffusers'][m]:.4f}" for m in GAUSS_MASKS)
                + f" | {row['wall_s_ours'] / row['wall_s_diffusers']:.3f} |"
            )
    lines.append("")
    lines.append(
        f"Machine: {results.get('machine', '')}. Memory: peak RSS above the run's starting RSS, sampled every 2 ms."
    )
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g, d = results.get("gaussian"), results.get("digits")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    if g:
        ax = axes[0]
        rows = g["rows"]
        width = 0.8 / len(rows)
        for i, row in enumerate(rows):
            ax.bar(
                np.arange(len(GAUSS_MASKS)) + i * width,
                [row["w2"][m] for m in GAUSS_MASKS],
                width,
                label=f"{row['sampler']} ({row['nfe']})",
            )
        for k, m in enumerate(GAUSS_MASKS):
            ax.hlines(
                g["noise_floor"][m]["mean"], k - width / 2, k + 0.8 - width / 2, colors="k", linestyles="--"
            )
        ax.set_xticks(np.arange(len(GAUSS_MASKS)) + 0.4 - width / 2, GAUSS_MASKS)
        ax.set_yscale("log")
        ax.set_ylabel("W2 to true conditional (dashed: noise floor)")
        ax.set_title("Exact-Gaussian check")
        ax.legend(fontsize=6)
    if d:
        ax = axes[1]
        names = ["blank"] + [f"{r['sampler']}\n({r['nfe']})" for r in d["rows"]]
        vals = [d["blank_agreement"]] + [r["agreement"] for r in d["rows"]]
        ax.bar(
            range(len(vals)),
            vals,
            color=["grey"] + ["C0" if r["kind"] == "repaint" else "C1" for r in d["rows"]],
        )
        ax.axhline(d["classifier_acc_unmasked_subset"], color="k", ls="--", lw=1)
        ax.set_xticks(range(len(vals)), names, fontsize=6, rotation=30, ha="right")
        ax.set_ylabel("agreement with label (dashed: unmasked)")
        ax.set_title(f"Digits, left half inpainted (n = {d['setup']['n']})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


PARTS = {
    "gaussian": part_gaussian,
    "digits": part_digits,
    "peer": part_peer,
    "peer_gaussian": part_peer_gaussian,
}


def parse_config(text: str) -> tuple[int, int, int]:
    steps, j, r = (int(v) for v in text.split(","))
    return steps, j, r


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    parser.add_argument("--gauss-n", type=int, default=2000, help="samples per Gaussian run")
    parser.add_argument("--floor-draws", type=int, default=10)
    parser.add_argument("--length-scale", type=float, default=1.5)
    parser.add_argument("--jitter", type=float, default=1e-2)
    parser.add_argument("--digits-n", type=int, default=100, help="held-out digits (the first n)")
    parser.add_argument("--digits-configs", type=parse_config, nargs="+", default=[(50, 5, 5), (100, 10, 5)])
    parser.add_argument(
        "--digits-kinds", nargs="+", default=["repaint", "plain"], choices=["repaint", "plain"]
    )
    parser.add_argument("--peer-config", type=parse_config, default=(50, 5, 5))
    parser.add_argument("--peer-timing-n", type=int, default=10, help="digits per repeated timing run")
    parser.add_argument("--peer-timing-repeats", type=int, default=6, help="timed pairs (ours, diffusers)")
    parser.add_argument("--peer-gauss-configs", type=parse_config, nargs="+", default=REPAINT_CONFIGS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "latest.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results["machine"] = f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread"
    start = time.perf_counter()
    for part in args.parts:
        t0 = time.perf_counter()
        new = {"part": part, **PARTS[part](args)}
        old = results.get(part)
        if part == "digits" and old and old.get("setup") == new["setup"]:
            # merge rows of earlier runs with other configs (so that configs can run one at a time)
            names = {row["sampler"] for row in new["rows"]}
            new["rows"] = [row for row in old["rows"] if row["sampler"] not in names] + new["rows"]
            new["rows"].sort(key=lambda row: (-row["nfe"], row["kind"] != "repaint"))
        results[part] = new
        results[part]["part_wall_s"] = round(time.perf_counter() - t0, 1)
        path.write_text(json.dumps(results, indent=1) + "\n")
    table = render(results)
    print(table)
    (args.out / "quality.md").write_text(table)
    plot(results, args.out / "quality.png")
    print(
        f"wrote {path}, {args.out / 'quality.md'}, {args.out / 'quality.png'} in {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

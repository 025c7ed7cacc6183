"""Train the demo DDPMs: a small ADM UNet, epsilon prediction, on scikit-learn's digits or on photo crops.

``--dataset digits`` (default): :mod:`training.digits`, 16 px, ``pixel/weights/digits_ddpm.safetensors``.
``--dataset photos``: :mod:`training.photos` (64 px crops of CC0 / public-domain photos),
``pixel/weights/photos64_ddpm.safetensors``. Each has its defaults in :data:`PRESETS`; see
``pixel/weights/DATA.md`` for the commands that made the committed weights.

Method: DDPM (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"), Algorithm 1 with the
simplified objective L_simple (eq. 14): t ~ U{0..T-1}, eps ~ N(0, I),
``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps``, loss ``|eps - net(x_t, t)|^2`` (mean over pixels);
linear beta schedule, T = 1000 (§4; :func:`pixel.schedule.linear_betas`). Adam (digits) or AdamW (photos), linear warm-up then
cosine decay of the learning rate, gradient-norm clipping at 1, and an exponential moving average of
the weights (the saved weights; Ho et al. 2020, Appendix B, use an EMA too).

Data: :mod:`training.digits` (the fixed training split only; nearest upsampling to ``--size`` px; 3
identical channels; [-1, 1]) or :class:`training.photos.PhotoCrops` (seeded random crops). Everything is seeded (``--seed``) and, on the CPU with one thread,
bit-reproducible on the same machine and torch build.

Run from anywhere in ``.venv`` (``training/`` imports the pack by name; ComfyUI never imports it)::

    python training/train_ddpm.py --out pixel/weights/digits_ddpm.safetensors
    python training/train_ddpm.py --dataset photos --sample-steps 100

``--save-every-s`` also saves the EMA weights periodically; ``--state`` keeps the full training state
with them, and ``--resume`` (with ``--stop-after-s`` to pause) continues a run bit for bit on the CPU.

After training it samples a grid with a plain ancestral DDPM loop (Ho et al. 2020, Algorithm 2 on a
respaced schedule, eq. 6-7 posterior); for digits it scores the samples with a logistic-regression
classifier fitted on the same training split (8x8 form).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from repaint_extend import pixel
from training import digits, photos

ROOT = Path(__file__).resolve().parent.parent


DIGITS_CONFIG = dict(
    image_size=16,
    in_channels=3,
    model_channels=24,
    out_channels=3,
    num_res_blocks=1,
    attention_resolutions=[2, 4],
    dropout=0.0,
    channel_mult=[1, 2, 2],
    conv_resample=True,
    num_classes=None,
    num_heads=1,
    num_head_channels=24,
    num_heads_upsample=-1,
    use_scale_shift_norm=True,
    resblock_updown=False,
    use_new_attention_order=False,
    norm_groups=8,
)
"""The demo model: 16 px, widths 24/48/48, one ResBlock per level, attention at 8 and 4 px."""


@torch.no_grad()
def ddpm_sample(net, shape, alphas_cumprod, steps=250, generator=None, device="cpu", clip=True):
    """Ancestral DDPM sampling (Ho et al. 2020, Algorithm 2) over ``steps`` evenly spaced timesteps.

    Between kept timesteps t > s the step uses ``beta = 1 - abar_t / abar_s`` and samples the
    posterior q(x_s | x_t, x0_hat) (Ho et al. 2020, eq. 6-7) with x0_hat from the predicted epsilon
    (eq. 4 solved for x0, clipped to [-1, 1] if ``clip``); the last step returns x0_hat.

    Returns:
        ``[shape]`` float32 samples in [-1, 1] (when clipped).
    """
    ts = pixel.space_timesteps(len(alphas_cumprod), steps)[::-1]
    ac = alphas_cumprod.to(torch.float64)
    x = torch.randn(shape, generator=generator, device=device)
    for i, t in enumerate(ts):
        a_t = ac[t]
        a_s = ac[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0, dtype=torch.float64)
        eps = net(x, torch.full((shape[0],), float(t), device=device))[:, : shape[1]].double()
        x0 = (x.double() - (1 - a_t).sqrt() * eps) / a_t.sqrt()
        if clip:
            x0 = x0.clamp(-1, 1)
        if i + 1 == len(ts):
            return x0.float()
        beta = 1 - a_t / a_s
        mean = (a_s.sqrt() * beta / (1 - a_t)) * x0 + ((1 - beta).sqrt() * (1 - a_s) / (1 - a_t)) * x.double()
        var = beta * (1 - a_s) / (1 - a_t)
        z = torch.randn(shape, generator=generator, device=device).double()
        x = (mean + var.sqrt() * z).float()
    return x


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8, scale: int = 4, color: bool = False) -> None:
    """Save ``[N, C, H, W]`` in [-1, 1] as a PNG grid, each pixel ``scale``x; grey (channel mean)
    unless ``color`` (then the first 3 channels as RGB)."""
    from PIL import Image

    x = images.float().clamp(-1, 1)
    x = x[:, :3].permute(0, 2, 3, 1) if color else x.mean(1)
    g = ((x + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
    n, h, w = g.shape[:3]
    rows = math.ceil(n / nrow)
    pad = 1
    canvas = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, *g.shape[3:]), 64, np.uint8)
    for i in range(n):
        r, c = divmod(i, nrow)
        canvas[
            pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w
        ] = g[i]
    img = Image.fromarray(canvas).resize((canvas.shape[1] * scale, canvas.shape[0] * scale), Image.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def classify_samples(samples: torch.Tensor, split: dict) -> dict:
    """Score samples with a logistic-regression classifier fitted on the 8x8 training split."""
    from sklearn.linear_model import LogisticRegression

    from_8 = digits.to_8x8
    clf = LogisticRegression(max_iter=2000)
    clf.fit(split["x_train"].reshape(len(split["x_train"]), -1) / 16.0, split["y_train"])
    test_acc = float(clf.score(split["x_test"].reshape(len(split["x_test"]), -1) / 16.0, split["y_test"]))
    p = clf.predict_proba(from_8(samples).reshape(len(samples), -1).cpu().numpy() / 16.0)
    return dict(
        classifier_test_accuracy=round(test_acc, 4),
        sample_mean_max_prob=round(float(p.max(1).mean()), 4),
        sample_frac_confident_0_9=round(float((p.max(1) > 0.9).mean()), 4),
        sample_class_histogram=np.bincount(p.argmax(1), minlength=10).tolist(),
    )


PHOTOS_CONFIG = dict(
    DIGITS_CONFIG,
    image_size=64,
    model_channels=32,
    num_res_blocks=1,
    attention_resolutions=[4, 8],
    channel_mult=[1, 2, 2, 2],
    num_head_channels=32,
)
"""The photos demo model: 64 px, widths 32/64/64/64, one ResBlock per level, attention at 16 and 8 px
(1,678,915 parameters). Sized for the CPU budget it was trained on (one shared core; 4,000 steps of 8 crops
took 85 min)."""

PRESETS = {
    "digits": dict(
        config=DIGITS_CONFIG,
        out=ROOT / "repaint_extend" / "pixel" / "weights" / "digits_ddpm.safetensors",
        grid=ROOT / "tests" / "_output" / "digits_ddpm_samples.png",
        steps=2200,
        batch_size=32,
        lr=1e-3,
        warmup=100,
        ema=0.995,
        optimizer="adam",
        weight_decay=0.0,
        n_samples=64,
    ),
    "photos": dict(
        config=PHOTOS_CONFIG,
        out=ROOT / "repaint_extend" / "pixel" / "weights" / "photos64_ddpm.safetensors",
        grid=ROOT / "tests" / "_output" / "photos64_samples.png",
        steps=4000,
        batch_size=8,
        lr=1e-3,
        warmup=100,
        ema=0.995,
        optimizer="adamw",
        weight_decay=0.01,
        n_samples=16,
    ),
}
"""Per-data-set defaults of :func:`main` (any of them can be overridden on the command line)."""

DATA_STATEMENTS = {
    "digits": "sklearn.datasets.load_digits, train split of train_test_split(test_size=0.25, random_state=0, "
    "stratify=target); 8x8 -> nearest upsampling; grey g in 0..16 -> g/8-1; 3 identical channels",
    "photos": "training.photos.PhotoCrops: random 64x64 crops (scale ladder 1..1/8 down to a short side of 80 px, "
    "horizontal flips) of CC0 / public-domain photos shipped in scikit-image (camera, astronaut, grass, "
    "gravel, brick, chelsea, coffee, rocket, clock_motion) and matplotlib (grace_hopper); see "
    "pixel/weights/DATA.md",
}


_BOOKKEEPING = {
    "--state": 1,
    "--resume": 0,
    "--stop-after-s": 1,
    "--save-every-s": 1,
    "--out": 1,
    "--grid": 1,
}
"""Options that only checkpoint or choose where files go: left out of the recorded command."""


def _replay_args(argv):
    """The arguments that determine the result: ``argv`` without :data:`_BOOKKEEPING`'s options."""
    out, skip = [], 0
    for a in argv:
        if skip:
            skip -= 1
            continue
        key = a.split("=", 1)[0]
        if key in _BOOKKEEPING:
            skip = _BOOKKEEPING[key] if "=" not in a else 0
            continue
        out.append(a)
    return out


def _parse_args(argv):
    """The command line, with the data set's :data:`PRESETS` filling what it leaves out: ``(args, parser)``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=sorted(PRESETS), default="digits")
    ap.add_argument("--out", default=None)
    ap.add_argument("--grid", default=None)
    ap.add_argument("--steps", type=int, default=None, help="optimizer steps")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--ema", type=float, default=None)
    ap.add_argument("--optimizer", choices=["adam", "adamw"], default=None)
    ap.add_argument("--weight-decay", type=float, default=None, help="AdamW only")
    ap.add_argument("--size", type=int, default=None, help="image size (digits only; photos are 64 px)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--sample-steps", type=int, default=250)
    ap.add_argument("--n-samples", type=int, default=None)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument(
        "--save-every-s", type=float, default=0, help="also save the EMA weights every so many seconds"
    )
    ap.add_argument("--state", default=None, help="file for the full training state (saved with the weights)")
    ap.add_argument("--resume", action="store_true", help="continue from --state (same command otherwise)")
    ap.add_argument(
        "--stop-after-s", type=float, default=0, help="stop early (state saved) after so many seconds"
    )
    args = ap.parse_args(argv)
    preset = PRESETS[args.dataset]
    for key in (
        "out",
        "grid",
        "steps",
        "batch_size",
        "lr",
        "warmup",
        "ema",
        "optimizer",
        "weight_decay",
        "n_samples",
    ):
        if getattr(args, key) is None:
            setattr(args, key, preset[key])
    if args.size is None:
        args.size = preset["config"]["image_size"]
    if args.dataset == "photos" and args.size != 64:
        ap.error("the photos model is 64 px")
    return args, ap


def _training_data(args, device):
    """``(draw_x0, description, split, crops)``: ``draw_x0(generator, n)`` draws n training images
    ``[n, 3, size, size]`` in [-1, 1]; ``split`` (digits) or ``crops`` (photos) is the data set, the other None."""
    split = crops = None
    if args.dataset == "digits":
        split = digits.load_digits_split()
        data = digits.upsample_digits(split["x_train"], size=args.size, channels=3).to(device)
        data_desc = f"{len(data)} training images {tuple(data.shape[1:])}"

        def draw_x0(gen, n):
            return data[torch.randint(0, len(data), (n,), generator=gen).to(device)]

    else:
        crops = photos.PhotoCrops(size=args.size, seed=args.seed, device=device)
        data_desc = f"random {args.size}px crops of {len(crops.photos)} photos"

        def draw_x0(gen, n):
            return crops.sample(n)

    return draw_x0, data_desc, split, crops


def _training_info(args, n_params, step_done, elapsed, log, device, command) -> dict:
    """What the weights' ``training`` metadata records: the model, data, command, steps, time and loss."""
    info = dict(
        model=f"{args.dataset} demo DDPM (epsilon prediction, L_simple, linear beta, T=1000)",
        data=DATA_STATEMENTS[args.dataset],
        parameters=n_params,
        steps=step_done,
        batch_size=args.batch_size,
        final_loss=round(log[-1][1], 5) if log else None,
        train_seconds=round(elapsed, 1),
        threads=args.threads,
        device=str(device),
        torch=torch.__version__,
        command=command,
        seed=args.seed,
    )
    if args.dataset != "digits":
        info.update(planned_steps=args.steps, optimizer=args.optimizer, lr=args.lr, ema=args.ema)
        info["loss_curve"] = [(s_, round(v, 5)) for s_, v in log[:: max(1, len(log) // 40)]]
    return info


def _optimizer(args, net) -> torch.optim.Optimizer:
    """Adam, or AdamW with ``args.weight_decay``, at ``args.lr``."""
    if args.optimizer == "adam":
        return torch.optim.Adam(net.parameters(), lr=args.lr)
    return torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)


def _learning_rate(args, step: int) -> float:
    """Linear warm-up over ``args.warmup`` steps, then cosine decay to 0 at ``args.steps``
    (Loshchilov & Hutter 2017, SGDR, without restarts)."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    frac = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * 0.5 * (1 + math.cos(math.pi * frac))


def _resume(state_path: Path, device, net, ema, opt, gen, crops) -> tuple[int, list, float]:
    """Load a saved training state into the networks, optimizer, generator and photo crops (if any):
    ``(step, loss log, training seconds)``."""
    st = torch.load(state_path, map_location=device, weights_only=False)
    net.load_state_dict(st["net"])
    ema.load_state_dict(st["ema"])
    opt.load_state_dict(st["opt"])
    gen.set_state(st["gen"])
    if crops is not None:
        crops.set_state(st["crops"])
    print(f"resumed at step {st['step']} from {state_path}", flush=True)
    return st["step"], st["log"], st["train_s"]


def main(argv=None) -> dict:
    args, ap = _parse_args(argv)
    preset = PRESETS[args.dataset]
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = torch.device(args.device)

    draw_x0, data_desc, split, crops = _training_data(args, device)
    config = dict(preset["config"], image_size=args.size)
    net = pixel.ADMUNet(**config).to(device)
    ema = pixel.ADMUNet(**config).to(device)
    ema.load_state_dict(net.state_dict())
    ema.requires_grad_(False)
    n_params = sum(p.numel() for p in net.parameters())
    ac = pixel.alphas_cumprod_from_betas(pixel.linear_betas(1000))
    sqrt_ac = ac.sqrt().float().to(device)
    sqrt_1mac = (1 - ac).sqrt().float().to(device)

    opt = _optimizer(args, net)

    def lr_at(step):
        return _learning_rate(args, step)

    gen = torch.Generator(device="cpu").manual_seed(args.seed)
    command = "python training/train_ddpm.py " + " ".join(
        shlex.quote(a) for a in _replay_args(argv or sys.argv[1:])
    )
    state_path = Path(args.state) if args.state else None
    start, log, train_s = 0, [], 0.0
    if args.resume:
        if state_path is None or not state_path.is_file():
            ap.error("--resume needs an existing --state file")
        start, log, train_s = _resume(state_path, device, net, ema, opt, gen, crops)

    def save(step_done, elapsed):
        info = _training_info(args, n_params, step_done, elapsed, log, device, command)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        pixel.save_adm(
            ema,
            out,
            extra_metadata={
                "training": json.dumps(info, sort_keys=True),
                "schedule": "linear",
                "timesteps": "1000",
                "prediction": "eps",
                "licence": "GPL-3.0-or-later",
            },
        )
        if state_path is not None:
            st = dict(
                net=net.state_dict(),
                ema=ema.state_dict(),
                opt=opt.state_dict(),
                gen=gen.get_state(),
                step=step_done,
                log=log,
                train_s=elapsed,
            )
            if args.dataset == "photos":
                st["crops"] = crops.get_state()
            state_path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(st, state_path)
        return info

    print(
        f"{args.dataset} DDPM: {data_desc}, {n_params} parameters, "
        f"{args.steps} steps x batch {args.batch_size}, device {device}",
        flush=True,
    )
    t0 = time.time() - train_s
    t_run, last_save = time.time(), time.time()
    running = []
    step = start
    for step in range(start, args.steps):
        x0 = draw_x0(gen, args.batch_size)
        t = torch.randint(0, 1000, (args.batch_size,), generator=gen)
        eps = torch.randn((args.batch_size, *x0.shape[1:]), generator=gen).to(device)
        t = t.to(device)
        xt = sqrt_ac[t][:, None, None, None] * x0 + sqrt_1mac[t][:, None, None, None] * eps
        loss = (net(xt, t) - eps).pow(2).mean()
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), net.parameters(), strict=True):
                pe.lerp_(p, 1 - decay)
        running.append(loss.detach())
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            total = 0.0
            for v in running:
                total += v.item()
            log.append((step + 1, total / len(running)))
            print(
                f"step {step + 1:6d}  loss {log[-1][1]:.4f}  lr {lr_at(step):.2e}  {time.time() - t0:7.1f}s",
                flush=True,
            )
            running = []
            if args.save_every_s and time.time() - last_save >= args.save_every_s:
                save(step + 1, time.time() - t0)
                last_save = time.time()
                print(f"saved {args.out} at step {step + 1}", flush=True)
            if args.stop_after_s and time.time() - t_run >= args.stop_after_s and step + 1 < args.steps:
                save(step + 1, time.time() - t0)
                print(f"stopped at step {step + 1}; continue with --resume", flush=True)
                return dict(stopped_at=step + 1)
    train_s = time.time() - t0
    info = save(args.steps, train_s)

    ema.eval()
    sgen = torch.Generator(device=device).manual_seed(args.seed + 1)
    t1 = time.time()
    samples = ddpm_sample(ema, (args.n_samples, 3, args.size, args.size), ac, args.sample_steps, sgen, device)
    sample_s = time.time() - t1
    if args.dataset == "digits":
        save_grid(samples, Path(args.grid))
        info.update(classify_samples(samples, split))
    else:
        save_grid(samples, Path(args.grid), nrow=4, scale=2, color=True)
    info.update(
        sample_seconds=round(sample_s, 1), weights_bytes=os.path.getsize(args.out), grid=str(args.grid)
    )
    print(json.dumps(info, indent=1), flush=True)
    return info


if __name__ == "__main__":
    main()

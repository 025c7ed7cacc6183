"""Train the digits demo DDPM: a small ADM UNet, epsilon prediction, on scikit-learn's digits.

Method: DDPM (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"), Algorithm 1 with the
simplified objective L_simple (eq. 14): t ~ U{0..T-1}, eps ~ N(0, I),
``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps``, loss ``|eps - net(x_t, t)|^2`` (mean over pixels);
linear beta schedule, T = 1000 (§4; :func:`pixel.schedule.linear_betas`). Adam, linear warm-up then
cosine decay of the learning rate, gradient-norm clipping at 1, and an exponential moving average of
the weights (the saved weights; Ho et al. 2020, Appendix B, use an EMA too).

Data: :mod:`pixel.digits` (the fixed training split only; nearest upsampling to ``--size`` px; 3
identical channels; [-1, 1]). Everything is seeded (``--seed``) and, on the CPU with one thread,
bit-reproducible on the same machine and torch build.

Run from the repository root (it registers the root as the package ``repaint_extend`` and never puts
it on ``sys.path``)::

    python pixel/train_ddpm.py --out pixel/weights/digits_ddpm.safetensors

After training it samples a grid with a plain ancestral DDPM loop (Ho et al. 2020, Algorithm 2 on a
respaced schedule, eq. 6-7 posterior) and scores the samples with a logistic-regression classifier
fitted on the same training split (8x8 form).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent


def _import_pixel():
    """Import the ``pixel`` package whether run as a script or as ``repaint_extend.pixel.train_ddpm``."""
    if __package__:
        return sys.modules[__package__]
    name = "repaint_extend"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{name}.pixel")


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
    pixel = _import_pixel()
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


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8, scale: int = 4) -> None:
    """Save ``[N, C, H, W]`` in [-1, 1] as a PNG grid (grey = channel mean), each pixel ``scale``x."""
    from PIL import Image

    g = ((images.float().mean(1).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
    n, h, w = g.shape
    rows = math.ceil(n / nrow)
    pad = 1
    canvas = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad), 64, np.uint8)
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

    from_8 = _import_pixel().digits.to_8x8
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


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "pixel" / "weights" / "digits_ddpm.safetensors"))
    ap.add_argument("--grid", default=str(ROOT / "tests" / "_output" / "digits_ddpm_samples.png"))
    ap.add_argument("--steps", type=int, default=2200, help="optimizer steps")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--ema", type=float, default=0.995)
    ap.add_argument("--size", type=int, default=DIGITS_CONFIG["image_size"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--sample-steps", type=int, default=250)
    ap.add_argument("--n-samples", type=int, default=64)
    ap.add_argument("--log-every", type=int, default=50)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    pixel = _import_pixel()
    digits = importlib.import_module(pixel.__name__ + ".digits")
    device = torch.device(args.device)

    split = digits.load_digits_split()
    data = digits.upsample_digits(split["x_train"], size=args.size, channels=3).to(device)
    config = dict(DIGITS_CONFIG, image_size=args.size)
    net = pixel.ADMUNet(**config).to(device)
    ema = pixel.ADMUNet(**config).to(device)
    ema.load_state_dict(net.state_dict())
    ema.requires_grad_(False)
    n_params = sum(p.numel() for p in net.parameters())
    ac = pixel.alphas_cumprod_from_betas(pixel.linear_betas(1000))
    sqrt_ac = ac.sqrt().float().to(device)
    sqrt_1mac = (1 - ac).sqrt().float().to(device)

    opt = torch.optim.Adam(net.parameters(), lr=args.lr)

    def lr_at(step):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        frac = (step - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * 0.5 * (1 + math.cos(math.pi * frac))

    gen = torch.Generator(device="cpu").manual_seed(args.seed)
    print(
        f"digits DDPM: {len(data)} training images {tuple(data.shape[1:])}, {n_params} parameters, "
        f"{args.steps} steps x batch {args.batch_size}, device {device}",
        flush=True,
    )
    t0 = time.time()
    running, log = 0.0, []
    for step in range(args.steps):
        idx = torch.randint(0, len(data), (args.batch_size,), generator=gen)
        t = torch.randint(0, 1000, (args.batch_size,), generator=gen)
        eps = torch.randn((args.batch_size, *data.shape[1:]), generator=gen).to(device)
        idx, t = idx.to(device), t.to(device)
        x0 = data[idx]
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
        running += loss.item()
        if (step + 1) % args.log_every == 0 or step + 1 == args.steps:
            k = (step % args.log_every) + 1
            log.append((step + 1, running / k))
            print(
                f"step {step + 1:6d}  loss {running / k:.4f}  lr {lr_at(step):.2e}  {time.time() - t0:7.1f}s",
                flush=True,
            )
            running = 0.0
    train_s = time.time() - t0

    ema.eval()
    sgen = torch.Generator(device=device).manual_seed(args.seed + 1)
    t1 = time.time()
    samples = ddpm_sample(ema, (args.n_samples, 3, args.size, args.size), ac, args.sample_steps, sgen, device)
    sample_s = time.time() - t1
    save_grid(samples, Path(args.grid))
    score = classify_samples(samples, split)

    command = "python pixel/train_ddpm.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    info = dict(
        model="digits demo DDPM (epsilon prediction, L_simple, linear beta, T=1000)",
        data="sklearn.datasets.load_digits, train split of train_test_split(test_size=0.25, random_state=0, "
        "stratify=target); 8x8 -> nearest upsampling; grey g in 0..16 -> g/8-1; 3 identical channels",
        parameters=n_params,
        steps=args.steps,
        batch_size=args.batch_size,
        final_loss=round(log[-1][1], 5),
        train_seconds=round(train_s, 1),
        threads=args.threads,
        device=str(device),
        torch=torch.__version__,
        command=command,
        seed=args.seed,
    )
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
    info.update(score, sample_seconds=round(sample_s, 1), weights_bytes=os.path.getsize(out), grid=args.grid)
    print(json.dumps(info, indent=1), flush=True)
    return info


if __name__ == "__main__":
    main()

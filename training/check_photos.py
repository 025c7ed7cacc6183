"""Inpainting check of the photos demo DDPM: RePaint on the bottom half of a 64x64 crop of camera.png.

Run with ``.venv/bin/python`` (the pack is imported by name)::

    python training/check_photos.py [--weights pixel/weights/photos64_ddpm.safetensors]

The crop: scikit-image's ``camera.png`` (CC0) downscaled to 128x128 (anti-aliased), rows 48..111 and
columns 24..87 (the photographer's dark coat, the camera and the top of the tripod over grass). The bottom 32 rows are masked and regenerated
``--n`` times with :func:`samplers.sample_repaint` (``--steps`` evenly spaced DDPM timesteps,
``jump_length``/``jump_n_sample`` as given) through :class:`samplers.KnownRegionDenoiser` and
:class:`pixel.ADMDenoiser`. Writes a strip: original | masked input | the samples, and checks that
the known rows come back exactly.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from repaint_extend import pixel, samplers
from training import photos
from training.train_ddpm import save_grid

ROOT = Path(__file__).resolve().parent.parent


def camera_crop() -> torch.Tensor:
    """``[1, 3, 64, 64]`` in [-1, 1]: camera.png at 1/4 scale, rows 48..111, columns 24..87."""
    from skimage.transform import rescale

    cam = next(p for p in photos.PHOTOS if p.name == "camera")
    img = rescale(photos.load_photo(cam), 0.25, order=1, anti_aliasing=True, channel_axis=2, mode="reflect")
    crop = torch.from_numpy(img[48:112, 24:88].copy()).float().clamp(-1, 1).permute(2, 0, 1)
    return crop[None]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--weights", default=str(ROOT / "repaint_extend" / "pixel" / "weights" / "photos64_ddpm.safetensors")
    )
    ap.add_argument("--out", default=str(ROOT / "tests" / "_output" / "photos64_inpaint.png"))
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--jump-length", type=int, default=5)
    ap.add_argument("--jump-n-sample", type=int, default=3)
    ap.add_argument("--n", type=int, default=4, help="samples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    net, _ = pixel.load_adm(args.weights)
    net.eval()
    den = pixel.ADMDenoiser(net)

    known = camera_crop().expand(args.n, -1, -1, -1).contiguous()
    mask = torch.zeros(1, 1, 64, 64)
    mask[..., 32:, :] = 1.0  # 1 = generate
    sigmas = den.schedule.sigmas_for_timesteps(pixel.space_timesteps(1000, args.steps))
    model = samplers.KnownRegionDenoiser(den, known, mask, seed=args.seed)
    g = torch.Generator().manual_seed(args.seed)
    x = torch.randn(known.shape, generator=g) * sigmas[0]
    nfe = []
    t0 = time.time()
    with torch.no_grad():
        out = samplers.sample_repaint(
            model,
            x,
            sigmas,
            {"seed": args.seed},
            disable=True,
            jump_length=args.jump_length,
            jump_n_sample=args.jump_n_sample,
            callback=lambda d: nfe.append(d["nfe"]),
        )
    seconds = time.time() - t0
    known_max_abs = float((out[..., :32, :] - known[..., :32, :]).abs().max())
    masked = known[:1].clone()
    masked[..., 32:, :] = 0.0
    save_grid(torch.cat([known[:1], masked, out]), Path(args.out), nrow=2 + args.n, scale=4, color=True)
    info = dict(
        weights=str(args.weights),
        steps=args.steps,
        jump_length=args.jump_length,
        jump_n_sample=args.jump_n_sample,
        samples=args.n,
        nfe=nfe[-1] if nfe else 0,
        seconds=round(seconds, 1),
        known_max_abs_diff=known_max_abs,
        out=str(args.out),
        unknown_mean=round(float(out[..., 32:, :].mean()), 4),
        unknown_std=round(float(out[..., 32:, :].std()), 4),
        true_unknown_mean=round(float(known[:1, :, 32:].mean()), 4),
        true_unknown_std=round(float(known[:1, :, 32:].std()), 4),
    )
    print(json.dumps(info, indent=1))
    return info


if __name__ == "__main__":
    main()

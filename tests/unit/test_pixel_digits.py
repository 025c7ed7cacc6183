"""The digits data split and the committed digits demo DDPM weights."""

import json
from pathlib import Path

import pytest
import torch

from repaint_extend.pixel import ADMDenoiser, load_adm

torch.set_num_threads(1)

WEIGHTS = (
    Path(__file__).resolve().parents[2] / "repaint_extend" / "pixel" / "weights" / "digits_ddpm.safetensors"
)


def test_fixed_split_and_exact_upsampling():
    pytest.importorskip("sklearn")
    from training.digits import load_digits_split, to_8x8, upsample_digits

    s = load_digits_split()
    assert s["x_train"].shape == (1347, 8, 8) and s["x_test"].shape == (450, 8, 8)
    assert not set(s["idx_train"]) & set(s["idx_test"])
    assert sorted(list(s["idx_train"]) + list(s["idx_test"])) == list(range(1797))
    assert set(s["y_test"]) == set(range(10))  # stratified
    assert s["idx_test"][:3].tolist() == load_digits_split()["idx_test"][:3].tolist()  # deterministic
    x = upsample_digits(s["x_test"][:5], size=16)
    assert x.shape == (5, 3, 16, 16) and x.min() >= -1 and x.max() <= 1
    assert torch.equal(x[:, 0], x[:, 2])
    assert torch.allclose(to_8x8(x).double(), torch.as_tensor(s["x_test"][:5]), atol=1e-5)
    with pytest.raises(ValueError):
        upsample_digits(s["x_test"][:1], size=12)


def test_committed_weights_load_without_arguments():
    assert WEIGHTS.is_file(), "run training/train_ddpm.py (see pixel/weights/DATA.md)"
    assert WEIGHTS.stat().st_size < 5_000_000
    model, cfg = load_adm(WEIGHTS)
    assert cfg["in_channels"] == 3 and cfg["out_channels"] == 3 and cfg["image_size"] == 16
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    from safetensors import safe_open

    with safe_open(str(WEIGHTS), framework="pt") as f:
        meta = f.metadata()
    info = json.loads(meta["training"])
    # recorded as pixel/train_ddpm.py, where the script was before it moved to training/
    assert info["command"].startswith("python pixel/train_ddpm.py")
    assert meta["prediction"] == "eps" and meta["timesteps"] == "1000"


def test_committed_model_denoises_held_out_digits():
    """At moderate noise the trained denoiser must beat the noisy input by a wide margin."""
    pytest.importorskip("sklearn")
    from training.digits import load_digits_split, upsample_digits

    model, cfg = load_adm(WEIGHTS)
    den = ADMDenoiser(model)
    x0 = upsample_digits(load_digits_split()["x_test"][:32], size=cfg["image_size"])
    g = torch.Generator().manual_seed(0)
    for sigma in (0.3, 1.0):
        x = x0 + sigma * torch.randn(x0.shape, generator=g)
        with torch.no_grad():
            d = den(x, torch.full((32,), sigma))
        err_in = (x - x0).pow(2).mean().item()
        err_out = (d - x0).pow(2).mean().item()
        assert err_out < 0.2 * err_in, (sigma, err_in, err_out)

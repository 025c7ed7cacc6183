"""The photos crop data set and the committed photos demo DDPM weights (fast)."""

import json
from pathlib import Path

import pytest
import torch

from repaint_extend.pixel import load_adm

torch.set_num_threads(1)

WEIGHTS = (
    Path(__file__).resolve().parents[2] / "repaint_extend" / "pixel" / "weights" / "photos64_ddpm.safetensors"
)

# The documented images (pixel/weights/DATA.md): (package, file) -> licence as the package states it.
DOCUMENTED = {
    ("skimage", "camera.png"),
    ("skimage", "astronaut.png"),
    ("matplotlib", "grace_hopper.jpg"),
    ("skimage", "grass.png"),
    ("skimage", "gravel.png"),
    ("skimage", "brick.png"),
    ("skimage", "chelsea.png"),
    ("skimage", "coffee.png"),
    ("skimage", "rocket.jpg"),
    ("skimage", "clock_motion.png"),
}


@pytest.fixture(scope="module")
def photos():
    pytest.importorskip("skimage")
    pytest.importorskip("matplotlib")
    from training import photos

    return photos


def test_crops_shape_range_determinism_and_files(photos, monkeypatch):
    import skimage.io

    assert {(p.package, p.file) for p in photos.PHOTOS} == DOCUMENTED
    opened = []
    real = skimage.io.imread
    monkeypatch.setattr(
        skimage.io, "imread", lambda path, *a, **k: opened.append(path) or real(path, *a, **k)
    )
    photos._ladder.cache_clear()
    a = photos.PhotoCrops(size=64, seed=3)
    assert sorted(opened) == sorted(photos.photo_path(p) for p in photos.PHOTOS)
    x = a.sample(12)
    assert x.shape == (12, 3, 64, 64) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1 and x.std() > 0.1
    b = photos.PhotoCrops(size=64, seed=3)
    assert torch.equal(x, b.sample(12))
    assert not torch.equal(x, photos.PhotoCrops(size=64, seed=4).sample(12))
    assert not torch.equal(x, a.sample(12))  # the stream moves on
    grey = photos.load_photo(next(p for p in photos.PHOTOS if p.name == "camera"))
    assert grey.shape == (512, 512, 3) and (grey[..., 0] == grey[..., 2]).all()


def test_committed_weights_config_and_forward():
    from training.train_ddpm import PHOTOS_CONFIG

    assert WEIGHTS.is_file(), "run training/train_ddpm.py --dataset photos (see pixel/weights/DATA.md)"
    assert WEIGHTS.stat().st_size < 20_000_000
    model, cfg = load_adm(WEIGHTS)
    assert cfg == model.config
    for key, value in PHOTOS_CONFIG.items():
        assert cfg[key] == value, key
    assert sum(p.numel() for p in model.parameters()) <= 5_000_000
    from safetensors import safe_open

    with safe_open(str(WEIGHTS), framework="pt") as f:
        meta = f.metadata()
    info = json.loads(meta["training"])
    # recorded as pixel/train_ddpm.py, where the script was before it moved to training/
    assert info["command"].startswith("python pixel/train_ddpm.py --dataset photos")
    assert meta["prediction"] == "eps" and meta["timesteps"] == "1000" and meta["schedule"] == "linear"
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        eps = model(x, torch.tensor([10.0, 900.0]))
    assert eps.shape == x.shape and torch.isfinite(eps).all()

"""Lightning checkpoints whose hyper_parameters / callbacks hold objects (issue 20 §3): the weights load,
nothing stored in the file runs, and a malicious pickle is inert or refused."""

import argparse
import builtins
import os
import sys
import types

import numpy as np
import pytest
import torch

from repaint_extend.pixel import load_adm, load_state_dict
from repaint_extend.pixel.adm_unet import ADMUNet


def _training_module():
    """Classes of a training run (a Lightning module's hparams, a callback), importable only while saving:
    the loading process has no such module, as a ComfyUI user's has none."""
    module = types.ModuleType("my_training_code")

    class HParams:
        def __init__(self, lr):
            self.lr = lr

    class ModelCheckpoint:
        def __init__(self):
            self.best_model_path = "/runs/best.ckpt"
            self.best_k_models = {"/runs/a.ckpt": torch.tensor(0.1)}

    for cls in (HParams, ModelCheckpoint):
        cls.__module__, cls.__qualname__ = module.__name__, cls.__name__
        setattr(module, cls.__name__, cls)
    return module


def _tiny():
    return ADMUNet(8, 3, 32, 3, 1, [2], channel_mult=[1, 2], num_head_channels=8)


def _save_lightning(path, state_dict, **extra):
    module = _training_module()
    sys.modules[module.__name__] = module
    try:
        torch.save(
            {
                "epoch": 3,
                "global_step": 1200,
                "pytorch-lightning_version": "1.9.0",
                "state_dict": state_dict,
                "hyper_parameters": {
                    "config": module.HParams(1e-4),
                    "args": argparse.Namespace(batch_size=4, data="/data"),
                    "scale": np.float64(0.18215),
                },
                "callbacks": {"ModelCheckpoint{'monitor': 'val/loss'}": module.ModelCheckpoint()},
                **extra,
            },
            path,
        )
    finally:
        del sys.modules[module.__name__]


def test_a_lightning_checkpoint_with_objects_loads_its_weights(tmp_path):
    """Today: ADMCheckpointError / UnpicklingError with PyTorch's advice to use weights_only=False."""
    model = _tiny()
    path = tmp_path / "last.ckpt"
    _save_lightning(path, model.state_dict())
    with pytest.raises(Exception, match="weights_only"):
        torch.load(path, weights_only=True)  # what PyTorch's safe loader alone says
    sd, _ = load_state_dict(path)
    assert sd.keys() == model.state_dict().keys()
    assert all(torch.equal(sd[k], v) for k, v in model.state_dict().items())
    loaded, _ = load_adm(path, num_head_channels=8)
    assert torch.equal(loaded.out[2].weight, model.out[2].weight)
    from repaint_extend.pixel.safe_pickle import OpaqueObject, safe_torch_load

    whole = safe_torch_load(path)
    assert whole["epoch"] == 3 and whole["pytorch-lightning_version"] == "1.9.0"
    config = whole["hyper_parameters"]["config"]
    assert isinstance(config, OpaqueObject) and config.name == "my_training_code.HParams"
    assert "my_training_code" not in sys.modules  # nothing was imported to read it


class _OpensAFile:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (builtins.open, (self.target, "w"))


class _RunsACommand:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def test_a_malicious_pickle_is_never_run(tmp_path):
    """A payload whose __reduce__ would create a file: with builtins.open it loads as an inert stand-in
    beside the weights; with os.system it is refused before anything is built. The file is never created."""
    from repaint_extend.pixel.safe_pickle import OpaqueObject, UnsafeCheckpointError, safe_torch_load

    model = _tiny()
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.ckpt"
    _save_lightning(path, model.state_dict(), payload=_OpensAFile(str(target)))
    sd, _ = load_state_dict(path)
    assert not target.exists()
    assert all(torch.equal(sd[k], v) for k, v in model.state_dict().items())
    payload = safe_torch_load(path)["payload"]
    assert (
        isinstance(payload, OpaqueObject)
        and payload.name in ("builtins.open", "io.open")
        and not target.exists()
    )

    command = tmp_path / "command.ckpt"
    _save_lightning(command, model.state_dict(), payload=_RunsACommand(str(target)))
    with pytest.raises(UnsafeCheckpointError, match="system.*nothing in it was run"):
        load_state_dict(command)
    assert not target.exists()
    with pytest.raises(FileNotFoundError):
        safe_torch_load(tmp_path / "missing.ckpt")

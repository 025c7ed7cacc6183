"""Harness-only ComfyUI nodes (not part of the pack): loaders for randomly initialised stand-in
models, so that graphs can run through the real executor with no checkpoint on disk, and a recorder of
the inputs a MODEL is called with."""

from support import tiny_models

_CACHE: dict = {}


class TinyCheckpointLoader:
    """MODEL, CLIP and VAE of a randomly initialised stand-in (see tests/support/tiny_models.py).

    ``family`` (optional, default "sd15") picks SD1.5- or SDXL-shaped models; graphs written before it
    existed load SD1.5 as they always did. SDXL has the kinds eps, v and inpaint, size tiny only."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "kind": (list(tiny_models.KINDS),),
                "size": (list(tiny_models.SIZES),),
                "seed": ("INT", {"default": 0, "min": 0, "max": 2**31 - 1}),
            },
            "optional": {
                "family": (list(tiny_models.FAMILIES), {"default": "sd15"}),
            },
        }

    RETURN_TYPES = ("MODEL", "CLIP", "VAE")
    FUNCTION = "load"
    CATEGORY = "testing"

    def load(self, kind, size, seed, family="sd15"):
        key = (kind, size, seed, family)
        if key not in _CACHE:
            _CACHE[key] = tiny_models.build(kind, size, seed, family=family)
        return _CACHE[key]


class TinyControlNetLoader:
    """A randomly initialised CONTROL_NET shaped like the tiny UNet of ``family`` (optional, default
    "sd15"; see tests/support/tiny_models.py)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"size": (list(tiny_models.SIZES),), "seed": ("INT", {"default": 3, "min": 0})},
            "optional": {"family": (list(tiny_models.FAMILIES), {"default": "sd15"})},
        }

    RETURN_TYPES = ("CONTROL_NET",)
    FUNCTION = "load"
    CATEGORY = "testing"

    def load(self, size, seed, family="sd15"):
        key = ("controlnet", size, seed, family)
        if key not in _CACHE:
            _CACHE[key] = (tiny_models.build_controlnet(size, seed, family=family),)
        return _CACHE[key]


class _CallRecorder:
    """ComfyUI ``model_function_wrapper`` that keeps ``(input, sigma)`` of every UNet call, then calls it."""

    def __init__(self):
        self.calls: list[tuple] = []

    def __call__(self, apply_model, args):
        self.calls.append((args["input"].detach().clone(), args["timestep"].detach().clone()))
        return apply_model(args["input"], args["timestep"], **args["c"])


class RecordModelCalls:
    """The MODEL, cloned, with a wrapper that records each UNet call's input x (the sampler's state, known
    region already re-noised by ComfyUI's inpainting wrapper) and its sigma: after the run,
    ``model.model_options["model_function_wrapper"].calls`` lists them in call order."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",)}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "testing"

    def patch(self, model):
        model = model.clone()
        model.set_model_unet_function_wrapper(_CallRecorder())
        return (model,)


NODE_CLASS_MAPPINGS = {
    "RecordModelCalls": RecordModelCalls,
    "TinyCheckpointLoader": TinyCheckpointLoader,
    "TinyControlNetLoader": TinyControlNetLoader,
}

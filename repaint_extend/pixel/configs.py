"""Published ADM configurations, config inference from checkpoints, and loading/saving.

A *config* here is the keyword dict of :class:`pixel.adm_unet.ADMUNet` (guided-diffusion
``UNetModel`` argument names; ``attention_resolutions`` as downsampling rates), JSON-serialisable.
A *flags* dict is guided-diffusion's command-line / RePaint YAML form (``num_channels``,
``attention_resolutions`` as pixel sizes, ``channel_mult: ''`` for the per-size default, ...);
:func:`unet_kwargs_from_flags` converts it as guided-diffusion's ``script_util.create_model`` does.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

import torch

from .adm_unet import ADMUNet

__all__ = [
    "PUBLISHED_FLAGS",
    "ADMCheckpointError",
    "unet_kwargs_from_flags",
    "published_config",
    "config_from_state_dict",
    "published_layouts",
    "check_published_heads",
    "load_state_dict",
    "load_adm",
    "save_adm",
]

_COMMON_256 = dict(
    image_size=256,
    num_channels=256,
    num_res_blocks=2,
    channel_mult="",
    num_heads=4,
    num_head_channels=64,
    num_heads_upsample=-1,
    attention_resolutions="32,16,8",
    dropout=0.0,
    learn_sigma=True,
    use_scale_shift_norm=True,
    resblock_updown=True,
    use_new_attention_order=False,
    diffusion_steps=1000,
    noise_schedule="linear",
)

PUBLISHED_FLAGS: dict[str, dict] = {
    # RePaint, confs/test_c256_{thin,thick,nn2,ex64,genhalf,ev2li}.yml (model celeba256_250000.pt).
    "celeba256": dict(_COMMON_256, class_cond=False, use_fp16=False),
    # RePaint, confs/test_p256_*.yml (model places256_300000.pt).
    "places256": dict(_COMMON_256, class_cond=False, use_fp16=False),
    # RePaint, confs/test_inet256_*.yml (model 256x256_diffusion.pt, class-conditional, OpenAI);
    # the same flags as guided-diffusion README.md, "ImageNet 256x256" classifier sampling.
    "imagenet256": dict(_COMMON_256, class_cond=True, use_fp16=True),
    # guided-diffusion README.md, "256x256 model (unconditional)" (256x256_diffusion_uncond.pt).
    "imagenet256_uncond": dict(_COMMON_256, class_cond=False, use_fp16=True),
}
"""guided-diffusion flags of the published 256 px models, cited per entry. All use learned sigma
(6 output channels) and the linear beta schedule with T = 1000. ``use_fp16`` only sets the compute
dtype (weights are stored in float32) and is ignored here."""

# guided-diffusion script_util.create_model: channel_mult when the flag is "" (by image size).
_DEFAULT_CHANNEL_MULT = {
    512: (0.5, 1, 1, 2, 2, 4, 4),
    256: (1, 1, 2, 2, 4, 4),
    128: (1, 1, 2, 3, 4),
    64: (1, 2, 3, 4),
}
_NUM_CLASSES = 1000  # ImageNet (script_util.NUM_CLASSES)


class ADMCheckpointError(ValueError):
    """A checkpoint is not an ADM UNet state dict, or does not match the requested config."""


def unet_kwargs_from_flags(flags: Mapping) -> dict:
    """Convert guided-diffusion flags (see :data:`PUBLISHED_FLAGS`) to an :class:`ADMUNet` config.

    As ``guided_diffusion/script_util.py`` ``create_model``: ``channel_mult == ""`` takes the default
    for the image size (512/256/128/64 px), ``attention_resolutions`` ``"32,16,8"`` become the
    downsampling rates ``image_size // res``, ``learn_sigma`` doubles the 3 output channels,
    ``class_cond`` gives 1000 classes. Images are RGB (3 input channels).

    Raises:
        ValueError: on an image size with no default channel_mult when none is given.
    """
    image_size = int(flags["image_size"])
    cm = flags.get("channel_mult", "")
    if cm in ("", None):
        if image_size not in _DEFAULT_CHANNEL_MULT:
            raise ValueError(f"no default channel_mult for image size {image_size}")
        channel_mult = list(_DEFAULT_CHANNEL_MULT[image_size])
    elif isinstance(cm, str):
        channel_mult = [int(c) for c in cm.split(",")]
    else:
        channel_mult = list(cm)
    res = flags.get("attention_resolutions", "16,8")
    res = [int(r) for r in res.split(",")] if isinstance(res, str) else [int(r) for r in res]
    return dict(
        image_size=image_size,
        in_channels=3,
        model_channels=int(flags["num_channels"]),
        out_channels=6 if flags.get("learn_sigma", False) else 3,
        num_res_blocks=int(flags["num_res_blocks"]),
        attention_resolutions=sorted(image_size // r for r in res),
        dropout=float(flags.get("dropout", 0.0)),
        channel_mult=channel_mult,
        conv_resample=True,
        num_classes=_NUM_CLASSES if flags.get("class_cond", False) else None,
        num_heads=int(flags.get("num_heads", 1)),
        num_head_channels=int(flags.get("num_head_channels", -1)),
        num_heads_upsample=int(flags.get("num_heads_upsample", -1)),
        use_scale_shift_norm=bool(flags.get("use_scale_shift_norm", False)),
        resblock_updown=bool(flags.get("resblock_updown", False)),
        use_new_attention_order=bool(flags.get("use_new_attention_order", False)),
        norm_groups=32,
    )


def published_config(name: str, **overrides) -> dict:
    """The :class:`ADMUNet` config of a published model (a key of :data:`PUBLISHED_FLAGS`), with
    optional overrides of config keys (e.g. ``model_channels=32, num_head_channels=8,
    norm_groups=8`` for a tiny model with the same key layout)."""
    if name not in PUBLISHED_FLAGS:
        raise KeyError(f"unknown published model {name!r}; known: {sorted(PUBLISHED_FLAGS)}")
    cfg = unet_kwargs_from_flags(PUBLISHED_FLAGS[name])
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise KeyError(f"unknown config keys {sorted(unknown)}")
    cfg.update(overrides)
    return cfg


def _indices(sd: Mapping, prefix: str) -> list[int]:
    pat = re.compile(re.escape(prefix) + r"\.(\d+)\.")
    return sorted({int(m.group(1)) for k in sd if (m := pat.match(k))})


def _mult(channels: int, model_channels: int):
    m = channels / model_channels
    return int(m) if m == int(m) else m


def config_from_state_dict(
    sd: Mapping[str, torch.Tensor],
    *,
    image_size: int | None = None,
    num_heads: int = 4,
    num_head_channels: int = 64,
    num_heads_upsample: int = -1,
    use_new_attention_order: bool = False,
    dropout: float = 0.0,
    norm_groups: int = 32,
) -> dict:
    """Infer an :class:`ADMUNet` config from a guided-diffusion UNet state dict's keys and shapes.

    Read from the weights: ``model_channels`` and the time-embedding width (``time_embed.0.weight``
    ``[4mc, mc]``), ``in_channels`` and ``channel_mult[0]`` (``input_blocks.0.0.weight``),
    ``out_channels`` (``out.2.weight``; 2C means learned sigma), ``num_classes`` (``label_emb``),
    ``use_scale_shift_norm`` (``emb_layers.1`` is ``2C`` wide), the resampler kind (an upsampling
    ResBlock or conv ``conv`` after the first ResBlock of an output block; otherwise parameter-free,
    seen as a key-less input block), hence ``num_res_blocks`` (index of the first upsampling output
    block) and the level count, ``channel_mult`` (each level's ResBlock width / mc) and
    ``attention_resolutions`` (levels whose blocks hold ``qkv``).

    Not stored in the weights, hence arguments, defaulting to the published RePaint/guided-diffusion
    256 px values (:data:`PUBLISHED_FLAGS`): ``num_heads`` (4), ``num_head_channels`` (64, which
    overrides num_heads), ``num_heads_upsample``, ``use_new_attention_order`` (False; changes the
    QKV split, not the shapes), ``dropout``, ``norm_groups`` (32), ``image_size`` (metadata).

    Raises:
        ADMCheckpointError: if the dict lacks the ADM keys or its block layout is inconsistent, or
            if an attention width is not divisible by ``num_head_channels``.
    """
    _check_required(sd)
    widths = _io_widths(sd)
    nrb, levels, conv_resample, resblock_updown = _block_layout(sd)
    channel_mult, attention = _level_widths_and_attention(sd, widths["model_channels"], levels, nrb)
    if channel_mult[0] != _mult(widths.pop("input_width"), widths["model_channels"]):
        raise ADMCheckpointError("input conv width does not match the first level's width")
    _check_head_width(sd, widths["model_channels"], channel_mult, attention, num_head_channels)
    return dict(
        image_size=image_size,
        in_channels=widths["in_channels"],
        model_channels=widths["model_channels"],
        out_channels=widths["out_channels"],
        num_res_blocks=nrb,
        attention_resolutions=sorted(attention),
        dropout=float(dropout),
        channel_mult=channel_mult,
        conv_resample=conv_resample,
        num_classes=widths["num_classes"],
        num_heads=num_heads,
        num_head_channels=num_head_channels,
        num_heads_upsample=num_heads_upsample,
        use_scale_shift_norm=widths["use_scale_shift_norm"],
        resblock_updown=resblock_updown,
        use_new_attention_order=use_new_attention_order,
        norm_groups=norm_groups,
    )


_REQUIRED_KEYS = (
    "time_embed.0.weight",
    "input_blocks.0.0.weight",
    "out.2.weight",
    "middle_block.0.in_layers.2.weight",
)


def _check_required(sd: Mapping) -> None:
    """Step 1: the keys every ADM UNet has (guided-diffusion ``unet.py``); else not an ADM state dict."""
    missing = [k for k in _REQUIRED_KEYS if k not in sd]
    if missing:
        raise ADMCheckpointError(
            f"not a guided-diffusion ADM UNet state dict: missing keys {missing} "
            f"(it has {len(sd)} keys, e.g. {sorted(sd)[:5]})"
        )


def _io_widths(sd: Mapping) -> dict:
    """Step 2: widths read off single tensors: ``time_embed.0`` ``[4mc, mc]``, the input conv
    ``[ch0, C_in]``, ``out.2`` ``[C_out]``, ``label_emb`` ``[classes]``, and the middle ResBlock's
    ``emb_layers.1`` (``2C`` wide with scale-shift norm, guided-diffusion ``ResBlock``)."""
    te = sd["time_embed.0.weight"]
    mc = int(te.shape[1])
    if te.shape[0] != 4 * mc:
        raise ADMCheckpointError(f"time_embed.0.weight has shape {tuple(te.shape)}, expected [4*mc, mc]")
    conv_in = sd["input_blocks.0.0.weight"]
    emb_out = sd["middle_block.0.emb_layers.1.weight"].shape[0]
    return dict(
        model_channels=mc,
        in_channels=int(conv_in.shape[1]),
        input_width=int(conv_in.shape[0]),
        out_channels=int(sd["out.2.weight"].shape[0]),
        num_classes=int(sd["label_emb.weight"].shape[0]) if "label_emb.weight" in sd else None,
        use_scale_shift_norm=bool(emb_out == 2 * sd["middle_block.0.out_layers.3.weight"].shape[0]),
    )


def _upsamplers(sd: Mapping, out_ids: list[int]) -> tuple[list[int], bool]:
    """Output blocks holding an upsampler after their first layer (a conv ``conv`` or, with
    ``resblock_updown``, a ResBlock), and whether they are ResBlocks."""
    ups, kinds = [], set()
    for j in out_ids:
        for k in _indices(sd, f"output_blocks.{j}")[1:]:
            if f"output_blocks.{j}.{k}.conv.weight" in sd:
                ups.append(j), kinds.add("conv")
            elif f"output_blocks.{j}.{k}.in_layers.0.weight" in sd:
                ups.append(j), kinds.add("resblock")
    if len(kinds) > 1:
        raise ADMCheckpointError("output_blocks mix conv and ResBlock upsamplers")
    return ups, kinds == {"resblock"}


def _block_layout(sd: Mapping) -> tuple[int, int, bool, bool]:
    """Step 3: ``(num_res_blocks, levels, conv_resample, resblock_updown)`` from the block indices.

    ``num_res_blocks`` is the index of the first upsampling output block; without upsamplers with
    parameters, the first key-less input block (a parameter-free average pool) tells it; with neither,
    the model has a single level. Each level has ``num_res_blocks + 1`` input and output blocks.
    """
    out_ids = _indices(sd, "output_blocks")
    in_ids = _indices(sd, "input_blocks")
    if not out_ids or out_ids != list(range(len(out_ids))):
        raise ADMCheckpointError(f"output_blocks indices are not 0..n-1: {out_ids}")
    n_out, n_in = len(out_ids), in_ids[-1] + 1
    ups, resblock_updown = _upsamplers(sd, out_ids)
    gaps = [i for i in range(n_in) if i not in in_ids]
    conv_resample = bool(ups) or not gaps
    if ups:
        nrb = ups[0]
    else:  # key-less input blocks are average-pool downsamplers; none at all: a single level
        nrb = gaps[0] - 1 if gaps else n_out - 1
    levels = n_out // (nrb + 1) if nrb >= 0 else 0
    expected_ups = [(nrb + 1) * k + nrb for k in range(levels - 1)]
    consistent = nrb >= 0 and levels >= 1 and n_out == n_in == levels * (nrb + 1)
    if not consistent or (ups and ups != expected_ups):
        raise ADMCheckpointError(
            f"inconsistent ADM block layout: {n_in} input blocks, {n_out} output blocks, "
            f"upsamplers at output blocks {ups}"
        )
    return nrb, levels, conv_resample, resblock_updown


def _level_widths_and_attention(sd: Mapping, mc: int, levels: int, nrb: int) -> tuple[list, set]:
    """Step 4: each level's width multiplier (its first output ResBlock's width / mc) and the
    downsampling rates ``2 ** level`` of the levels whose blocks hold ``qkv`` (attention)."""
    channel_mult, attention = [], set()
    for level in range(levels):
        first = (levels - 1 - level) * (nrb + 1)
        width = int(sd[f"output_blocks.{first}.0.out_layers.3.weight"].shape[0])
        channel_mult.append(_mult(width, mc))
        blocks = [f"output_blocks.{first + i}" for i in range(nrb + 1)]
        blocks += [f"input_blocks.{1 + level * (nrb + 1) + i}" for i in range(nrb)]
        if any(f"{b}.1.qkv.weight" in sd for b in blocks):
            attention.add(2**level)
    return channel_mult, attention


def _check_head_width(
    sd: Mapping, mc: int, channel_mult: list, attention: set, num_head_channels: int
) -> None:
    """Step 5: every attention width (middle block and attention levels) splits into heads of
    ``num_head_channels`` (when positive)."""
    if num_head_channels <= 0:
        return
    widths = [int(sd["middle_block.1.qkv.weight"].shape[1])]
    widths += [int(mc * channel_mult[int(a).bit_length() - 1]) for a in attention]
    bad = sorted({w for w in widths if w % num_head_channels})
    if bad:
        raise ADMCheckpointError(
            f"attention widths {bad} are not divisible by num_head_channels={num_head_channels}; "
            "pass the model's num_head_channels (or -1 and num_heads)"
        )


_LAYOUT_KEYS = (
    "in_channels",
    "model_channels",
    "out_channels",
    "num_res_blocks",
    "attention_resolutions",
    "channel_mult",
    "conv_resample",
    "use_scale_shift_norm",
    "resblock_updown",
)


def published_layouts(sd: Mapping[str, torch.Tensor]) -> list[str]:
    """The :data:`PUBLISHED_FLAGS` models whose layout (shapes; class count aside) the state dict has.

    The head width is not stored in the weights: two files with the same shapes may have been trained
    with different heads. The published 256 px files all use ``num_head_channels=64``
    (:data:`PUBLISHED_FLAGS`); a state dict with their layout is taken to be one of them.
    """
    got = config_from_state_dict(sd, num_head_channels=-1)
    return [
        name for name in PUBLISHED_FLAGS if all(got[k] == published_config(name)[k] for k in _LAYOUT_KEYS)
    ]


def check_published_heads(sd: Mapping[str, torch.Tensor], num_head_channels: int, num_heads: int) -> None:
    """Refuse heads other than the published ones for a state dict with a published layout.

    Raises:
        ADMCheckpointError: the state dict has the layout of a published 256 px model (see
            :func:`published_layouts`) and ``num_head_channels`` is not that model's (64): the outputs
            would be wrong without any other error (heads change no shape).
    """
    names = published_layouts(sd)
    if not names:
        return
    expected = {PUBLISHED_FLAGS[n]["num_head_channels"] for n in names}
    if num_head_channels not in expected:
        raise ADMCheckpointError(
            f"this checkpoint has the layout of the published {'/'.join(names)} model(s), trained with "
            f"num_head_channels={sorted(expected)[0]}; got num_head_channels={num_head_channels}, "
            f"num_heads={num_heads}. Set num_head_channels to {sorted(expected)[0]} (heads change no weight "
            "shape, so other values load but give wrong outputs)"
        )


_META_KEY = "adm_config"


def load_state_dict(source) -> tuple[dict[str, torch.Tensor], dict | None]:
    """Read a state dict and its stored config (safetensors metadata ``adm_config``; else None).

    Args:
        source: a mapping (returned as is), or a path to ``.safetensors`` or to a torch pickle
            (``.pt``/``.pth``/``.ckpt``/other, read with ``torch.load(weights_only=True)``). A pickle
            holding ``{"state_dict": ...}``, ``{"model": ...}`` or ``{"ema": ...}`` is unwrapped, and a
            common ``module.`` prefix (DistributedDataParallel) is stripped.

    Raises:
        FileNotFoundError, ADMCheckpointError (not a mapping of tensors).
    """
    config = None
    if isinstance(source, Mapping):
        sd = dict(source)
    else:
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(path)
        if path.endswith(".safetensors"):
            from safetensors import safe_open
            from safetensors.torch import load_file

            with safe_open(path, framework="pt") as f:
                meta = f.metadata() or {}
            sd = load_file(path)
            if _META_KEY in meta:
                config = json.loads(meta[_META_KEY])
        else:
            sd = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(sd, Mapping) and not all(isinstance(v, torch.Tensor) for v in sd.values()):
        for key in ("state_dict", "model", "ema"):
            if isinstance(sd.get(key), Mapping):
                sd = sd[key]
                break
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ADMCheckpointError("checkpoint is not a mapping of parameter names to tensors")
    sd = dict(sd)
    if sd and all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    return sd, config


def _mismatch_report(model: torch.nn.Module, sd: Mapping[str, torch.Tensor], limit: int = 8) -> str | None:
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)
    ]
    if not (missing or unexpected or shapes):
        return None
    parts = []
    for name, items in (
        ("missing keys", missing),
        ("unexpected keys", unexpected),
        ("shape mismatches", shapes),
    ):
        if items:
            more = f" ... (+{len(items) - limit} more)" if len(items) > limit else ""
            parts.append(f"{len(items)} {name}: {items[:limit]}{more}")
    return "; ".join(parts)


def load_adm(
    source,
    config: Mapping | None = None,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    **overrides,
) -> tuple[ADMUNet, dict]:
    """Build an :class:`ADMUNet` and load a checkpoint into it (strictly).

    The config is, in order of precedence: ``overrides`` (config keys, e.g. ``num_head_channels=-1,
    num_heads=4``) over ``config`` if given, else over the safetensors metadata ``adm_config`` if
    present, else over :func:`config_from_state_dict` (which receives the overrides it accepts).

    Args:
        source: path to ``.pt``/``.safetensors`` or a state dict (see :func:`load_state_dict`).
        config: an explicit :class:`ADMUNet` config.
        device, dtype: where and how to hold the weights.

    Returns:
        ``(model, config)``: the model in eval mode, and the config it was built with.

    Raises:
        FileNotFoundError; ADMCheckpointError naming the missing / unexpected keys and shape
        mismatches when the weights do not fit the config.
    """
    sd, stored = load_state_dict(source)
    if config is None:
        config = stored
    if config is None:
        infer_keys = {
            "image_size",
            "num_heads",
            "num_head_channels",
            "num_heads_upsample",
            "use_new_attention_order",
            "dropout",
            "norm_groups",
        }
        cfg = config_from_state_dict(sd, **{k: v for k, v in overrides.items() if k in infer_keys})
    else:
        cfg = dict(config)
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ADMCheckpointError(f"unknown config keys {sorted(unknown)}")
    cfg.update(overrides)
    try:
        model = ADMUNet(**cfg)
    except (TypeError, ValueError) as e:
        raise ADMCheckpointError(f"cannot build an ADM UNet from config {cfg}: {e}") from e
    report = _mismatch_report(model, sd)
    if report:
        raise ADMCheckpointError(f"checkpoint does not fit the ADM UNet config: {report}")
    model.load_state_dict(sd, strict=True)
    model.to(device=device, dtype=dtype).eval()
    return model, cfg


def save_adm(model: ADMUNet, path, extra_metadata: Mapping[str, str] | None = None) -> None:
    """Save weights as ``.safetensors`` with the config JSON in metadata key ``adm_config`` (plus
    any string ``extra_metadata``), so that :func:`load_adm` needs no inference or arguments."""
    from safetensors.torch import save_file

    meta = {_META_KEY: json.dumps(model.config, sort_keys=True)}
    meta.update({str(k): str(v) for k, v in (extra_metadata or {}).items()})
    sd = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(sd, os.fspath(path), metadata=meta)

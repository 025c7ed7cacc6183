"""ADM UNet: key layout and shapes against guided-diffusion's UNetModel, forward behaviour.

The expected key sets are written out here from guided-diffusion's architecture
(``guided_diffusion/unet.py``: block order, module names, which blocks carry a 1x1 skip conv), by
counting blocks per the published flags, independently of ``pixel.adm_unet``. The totals (566 keys,
552,814,086 parameters for the unconditional 256 px models) were also checked against
guided-diffusion's own ``create_model`` outside this repository.
"""

import ast
from pathlib import Path

import pytest
import torch

from repaint_extend.pixel import ADMUNet, published_config, timestep_embedding
from repaint_extend.pixel.adm_unet import AttentionBlock

torch.set_num_threads(1)

RES = [
    "in_layers.0.weight",
    "in_layers.0.bias",
    "in_layers.2.weight",
    "in_layers.2.bias",
    "emb_layers.1.weight",
    "emb_layers.1.bias",
    "out_layers.0.weight",
    "out_layers.0.bias",
    "out_layers.3.weight",
    "out_layers.3.bias",
]
SKIP = ["skip_connection.weight", "skip_connection.bias"]
ATTN = ["norm.weight", "norm.bias", "qkv.weight", "qkv.bias", "proj_out.weight", "proj_out.bias"]


def expected_256_keys(class_cond: bool) -> set[str]:
    """Keys of the published 256 px ADM: 6 levels with mult (1,1,2,2,4,4), 2 ResBlocks per level,
    ResBlock up/down-samplers, attention at 32/16/8 px = levels 3, 4, 5."""
    mult = [1, 1, 2, 2, 4, 4]
    attn_levels = {3, 4, 5}
    keys = {
        "time_embed.0.weight",
        "time_embed.0.bias",
        "time_embed.2.weight",
        "time_embed.2.bias",
        "input_blocks.0.0.weight",
        "input_blocks.0.0.bias",
        "out.0.weight",
        "out.0.bias",
        "out.2.weight",
        "out.2.bias",
    }
    if class_cond:
        keys.add("label_emb.weight")

    def add(prefix, names):
        keys.update(f"{prefix}.{n}" for n in names)

    i, prev = 1, mult[0]
    for level, m in enumerate(mult):
        for _ in range(2):
            add(f"input_blocks.{i}.0", RES + (SKIP if m != prev else []))
            if level in attn_levels:
                add(f"input_blocks.{i}.1", ATTN)
            prev = m
            i += 1
        if level < 5:
            add(f"input_blocks.{i}.0", RES)  # down-sampling ResBlock, same width: no skip conv
            i += 1
    assert i == 18
    add("middle_block.0", RES)
    add("middle_block.1", ATTN)
    add("middle_block.2", RES)
    j = 0
    for level in reversed(range(6)):
        for r in range(3):
            add(f"output_blocks.{j}.0", RES + SKIP)  # input is [h, skip] concatenated: always a 1x1 conv
            k = 1
            if level in attn_levels:
                add(f"output_blocks.{j}.{k}", ATTN)
                k += 1
            if level > 0 and r == 2:
                add(f"output_blocks.{j}.{k}", RES)  # up-sampling ResBlock
            j += 1
    return keys


def meta_model(name, **overrides):
    with torch.device("meta"):
        return ADMUNet(**published_config(name, **overrides))


@pytest.mark.parametrize("name", ["celeba256", "places256", "imagenet256", "imagenet256_uncond"])
def test_published_key_set_full_size(name):
    sd = meta_model(name).state_dict()
    class_cond = name == "imagenet256"
    assert set(sd) == expected_256_keys(class_cond)
    assert len(sd) == 566 + class_cond
    n = sum(v.numel() for v in sd.values())
    assert n == 552_814_086 + (1000 * 1024 if class_cond else 0)
    # Shapes of guided-diffusion's modules (conv2d weights [out, in, 3, 3], conv1d [out, in, 1]).
    assert sd["time_embed.0.weight"].shape == (1024, 256)
    assert sd["input_blocks.0.0.weight"].shape == (256, 3, 3, 3)
    assert sd["input_blocks.7.0.skip_connection.weight"].shape == (512, 256, 1, 1)
    assert sd["input_blocks.10.1.qkv.weight"].shape == (1536, 512, 1)
    assert sd["input_blocks.3.0.emb_layers.1.weight"].shape == (512, 1024)  # scale-shift: 2C
    assert sd["middle_block.1.qkv.weight"].shape == (3072, 1024, 1)
    assert sd["output_blocks.0.0.in_layers.2.weight"].shape == (1024, 2048, 3, 3)
    assert sd["output_blocks.17.0.skip_connection.weight"].shape == (256, 512, 1, 1)
    assert sd["out.2.weight"].shape == (6, 256, 3, 3)  # learned sigma: 2 x 3 channels
    if class_cond:
        assert sd["label_emb.weight"].shape == (1000, 1024)


TINY = dict(model_channels=16, num_head_channels=8, norm_groups=8)


@pytest.mark.parametrize("name", ["celeba256", "places256", "imagenet256", "imagenet256_uncond"])
def test_tiny_published_layout_keeps_keys(name):
    model = ADMUNet(**published_config(name, **TINY))
    assert set(model.state_dict()) == expected_256_keys(name == "imagenet256")
    assert sum(p.numel() for p in model.parameters()) < 3_000_000
    # Shapes scale with the width: the input conv is [mc, 3, 3, 3], the output [6, mc, 3, 3].
    assert model.state_dict()["input_blocks.0.0.weight"].shape == (16, 3, 3, 3)
    assert model.state_dict()["out.2.weight"].shape == (6, 16, 3, 3)


def test_tiny_forward_shapes_and_class_labels():
    torch.manual_seed(0)
    model = ADMUNet(**published_config("imagenet256", **TINY)).eval()
    x = torch.randn(2, 3, 32, 32)  # 6 levels: H, W divisible by 32
    t = torch.tensor([0, 999])
    with torch.no_grad():
        out = model(x, t, y=torch.tensor([1, 2]))
    assert out.shape == (2, 6, 32, 32) and out.dtype == x.dtype
    with pytest.raises(ValueError, match="class-conditional"):
        model(x, t)
    with pytest.raises(ValueError, match="divisible"):
        model(torch.randn(1, 3, 24, 24), t[:1], y=torch.tensor([0]))
    uncond = ADMUNet(**published_config("celeba256", **TINY))
    with pytest.raises(ValueError, match="class-conditional"):
        uncond(x, t, y=torch.tensor([1, 2]))


def _randomise(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return model


def _naive_attention(x, qkv_w, qkv_b, proj_w, proj_b, norm, heads, legacy):
    """Reference attention written out per head (guided-diffusion QKVAttentionLegacy / QKVAttention)."""
    b, c, h, w = x.shape
    xs = x.reshape(b, c, -1)
    qkv = torch.einsum("oc,bcl->bol", qkv_w[:, :, 0], norm(xs)) + qkv_b[None, :, None]
    d = c // heads
    outs = []
    for hh in range(heads):
        if legacy:  # per head: [q, k, v] blocks of d channels
            base = hh * 3 * d
            q, k, v = (
                qkv[:, base : base + d],
                qkv[:, base + d : base + 2 * d],
                qkv[:, base + 2 * d : base + 3 * d],
            )
        else:  # [all q, all k, all v], then heads
            q, k, v = (qkv[:, s * c + hh * d : s * c + (hh + 1) * d] for s in range(3))
        att = torch.softmax(torch.einsum("bdt,bds->bts", q, k) / d**0.5, dim=-1)
        outs.append(torch.einsum("bts,bds->bdt", att, v))
    a = torch.cat(outs, dim=1)
    return (xs + torch.einsum("oc,bcl->bol", proj_w[:, :, 0], a) + proj_b[None, :, None]).reshape(b, c, h, w)


@pytest.mark.parametrize("new_order", [False, True])
def test_attention_qkv_split_order(new_order):
    block = _randomise(
        AttentionBlock(16, num_head_channels=4, use_new_attention_order=new_order, norm_groups=4)
    )
    x = torch.randn(2, 16, 3, 5)
    with torch.no_grad():
        got = block(x)
        ref = _naive_attention(
            x,
            block.qkv.weight,
            block.qkv.bias,
            block.proj_out.weight,
            block.proj_out.bias,
            block.norm,
            4,
            legacy=not new_order,
        )
        other = _naive_attention(
            x,
            block.qkv.weight,
            block.qkv.bias,
            block.proj_out.weight,
            block.proj_out.bias,
            block.norm,
            4,
            legacy=new_order,
        )
    assert torch.allclose(got, ref, atol=1e-5)
    assert not torch.allclose(got, other, atol=1e-3)  # the flag matters with several heads


def test_timestep_embedding_layout():
    e = timestep_embedding(torch.tensor([0.0, 10.0]), 8)
    assert e.shape == (2, 8)
    assert torch.equal(e[0], torch.tensor([1.0] * 4 + [0.0] * 4))  # cos first, then sin
    assert torch.allclose(e[1, 0], torch.cos(torch.tensor(10.0)))  # frequency 1 first
    assert torch.allclose(e[1, 3], torch.cos(torch.tensor(10.0 * 10000 ** (-3 / 4))))


def test_zero_initialised_output_and_residual_convs():
    model = ADMUNet(**published_config("celeba256", **TINY))
    sd = model.state_dict()
    assert sd["out.2.weight"].abs().sum() == 0
    assert sd["input_blocks.1.0.out_layers.3.weight"].abs().sum() == 0
    assert sd["middle_block.1.proj_out.weight"].abs().sum() == 0


def test_pixel_never_imports_comfyui():
    root = Path(__file__).resolve().parents[2] / "repaint_extend" / "pixel"
    banned = {"comfy", "comfy_api", "nodes", "folder_paths", "comfy_extras", "server"}
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for n in names:
                assert n.split(".")[0] not in banned, f"{path.name} imports {n}"

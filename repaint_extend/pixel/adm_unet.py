"""ADM UNet: the pixel-space diffusion UNet of guided-diffusion (Dhariwal & Nichol 2021, "Diffusion
Models Beat GANs on Image Synthesis", §3 and Appendix A), the network behind the RePaint checkpoints.

Written for this project from the published description; the module structure, attribute names and
therefore ``state_dict()`` keys and tensor shapes follow guided-diffusion's ``UNetModel``
(``guided_diffusion/unet.py``, MIT licence) so that its ``.pt`` checkpoints load without renaming:

- ``time_embed.{0,2}``: Linear(mc, 4mc), SiLU, Linear(4mc, 4mc); ``label_emb`` (optional) Embedding.
- ``input_blocks.{i}.{j}``: block 0 is one 3x3 conv; then per level ``num_res_blocks`` ResBlocks (each
  optionally followed by an AttentionBlock at ``j = 1``) and, except after the last level, one
  downsampler (a conv ``op``, a parameter-free average pool, or a ResBlock with ``down=True``).
- ``middle_block.{0,1,2}``: ResBlock, AttentionBlock, ResBlock.
- ``output_blocks.{i}.{j}``: per level (deepest first) ``num_res_blocks + 1`` ResBlocks taking the
  concatenated skip, optional AttentionBlock, and on the last block of each level but the top one an
  upsampler (a conv ``conv``, a parameter-free nearest upsample, or a ResBlock with ``up=True``).
- ``out.{0,2}``: GroupNorm, SiLU, 3x3 conv to ``out_channels``.
- ResBlock: ``in_layers.{0,2}`` (GroupNorm, SiLU, conv3x3), ``emb_layers.1`` (SiLU, Linear to ``C``
  or ``2C`` with scale-shift norm), ``out_layers.{0,3}`` (GroupNorm, SiLU, Dropout, conv3x3),
  ``skip_connection`` (identity, or a 1x1 conv when the channel count changes).
- AttentionBlock: ``norm`` (GroupNorm), ``qkv`` (Conv1d C -> 3C, kernel 1), ``proj_out`` (Conv1d C -> C).

The pure-torch core never imports ComfyUI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ADMUNet", "timestep_embedding"]


def timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal timestep embedding (Vaswani et al. 2017, §3.5; used by Ho et al. 2020, Appendix B).

    The layout is ``[cos(t * f_0..f_{h-1}), sin(t * f_0..f_{h-1})]`` with ``h = dim // 2`` and
    ``f_k = max_period ** (-k / h)``, cosines first, as guided-diffusion's ``nn.timestep_embedding``;
    an odd ``dim`` gets one trailing zero.

    Args:
        timesteps: ``[N]``, the (possibly fractional) diffusion step indices, normally in [0, 999].
        dim: embedding width.
        max_period: the longest period of the sinusoids.

    Returns:
        ``[N, dim]`` float32.
    """
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=timesteps.device)
    freqs = torch.exp(-math.log(max_period) * k / half)
    args = timesteps.float()[:, None] * freqs[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class _GroupNorm(nn.GroupNorm):
    """GroupNorm evaluated in float32 (guided-diffusion's ``GroupNorm32``), result in the input dtype."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.float()).to(x.dtype)


def _zeroed(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        p.detach().zero_()
    return module


class _Down(nn.Module):
    """Halve H and W: a strided 3x3 conv (key ``op``) or a 2x2 average pool (no parameters)."""

    def __init__(self, channels: int, use_conv: bool):
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1) if use_conv else nn.AvgPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class _Up(nn.Module):
    """Double H and W by nearest neighbour, then optionally a 3x3 conv (key ``conv``)."""

    def __init__(self, channels: int, use_conv: bool):
        super().__init__()
        if use_conv:
            self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.use_conv = use_conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x) if self.use_conv else x


class ResBlock(nn.Module):
    """Residual block conditioned on the time embedding (Dhariwal & Nichol 2021, §3 and App. A).

    ``h = in_layers(x)``; with ``use_scale_shift_norm`` ("AdaGN"), ``h = GN(h) * (1 + s) + b`` where
    ``(s, b) = emb_layers(emb)`` split in halves, else ``h = GN(h + emb_layers(emb))``; then SiLU,
    dropout and a zero-initialised conv; the output is ``skip_connection(x) + h``. With ``up`` or
    ``down`` both branches are resampled after the first norm/SiLU (BigGAN-style, ``resblock_updown``).
    """

    def __init__(
        self,
        channels: int,
        emb_channels: int,
        out_channels: int | None = None,
        *,
        dropout: float = 0.0,
        use_scale_shift_norm: bool = False,
        up: bool = False,
        down: bool = False,
        norm_groups: int = 32,
    ):
        super().__init__()
        out_channels = out_channels or channels
        self.use_scale_shift_norm = use_scale_shift_norm
        self.in_layers = nn.Sequential(
            _GroupNorm(norm_groups, channels), nn.SiLU(), nn.Conv2d(channels, out_channels, 3, padding=1)
        )
        self.updown = up or down
        if up:
            self.h_upd, self.x_upd = _Up(channels, False), _Up(channels, False)
        elif down:
            self.h_upd, self.x_upd = _Down(channels, False), _Down(channels, False)
        else:
            self.h_upd = self.x_upd = nn.Identity()
        self.emb_layers = nn.Sequential(
            nn.SiLU(), nn.Linear(emb_channels, 2 * out_channels if use_scale_shift_norm else out_channels)
        )
        self.out_layers = nn.Sequential(
            _GroupNorm(norm_groups, out_channels),
            nn.SiLU(),
            nn.Dropout(p=dropout),
            _zeroed(nn.Conv2d(out_channels, out_channels, 3, padding=1)),
        )
        if out_channels == channels:
            self.skip_connection = nn.Identity()
        else:
            self.skip_connection = nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        if self.updown:
            h = self.in_layers[1](self.in_layers[0](x))
            h = self.in_layers[2](self.h_upd(h))
            x = self.x_upd(x)
        else:
            h = self.in_layers(x)
        e = self.emb_layers(emb).to(h.dtype)[:, :, None, None]
        if self.use_scale_shift_norm:
            scale, shift = e.chunk(2, dim=1)
            h = self.out_layers[0](h) * (1 + scale) + shift
            for layer in self.out_layers[1:]:
                h = layer(h)
        else:
            h = self.out_layers(h + e)
        return self.skip_connection(x) + h


class AttentionBlock(nn.Module):
    """Multi-head self-attention over all spatial positions, residual (Dhariwal & Nichol 2021, §3).

    The heads are ``num_heads``, or ``channels // num_head_channels`` when ``num_head_channels > 0``.
    The ``3C`` channels of ``qkv`` are laid out per head as ``[q_h, k_h, v_h]`` (head-major, the
    legacy order of guided-diffusion's ``QKVAttentionLegacy``, used by all RePaint checkpoints), or
    as ``[q_all_heads, k_all_heads, v_all_heads]`` with ``use_new_attention_order`` (``QKVAttention``).
    Logits are scaled by ``1/sqrt(head_dim)``.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        num_head_channels: int = -1,
        use_new_attention_order: bool = False,
        norm_groups: int = 32,
    ):
        super().__init__()
        if num_head_channels == -1:
            self.num_heads = num_heads
        else:
            if channels % num_head_channels:
                raise ValueError(
                    f"attention channels {channels} are not divisible by num_head_channels {num_head_channels}"
                )
            self.num_heads = channels // num_head_channels
        if self.num_heads < 1 or channels % self.num_heads:
            raise ValueError(f"attention channels {channels} do not split into {self.num_heads} heads")
        self.new_order = use_new_attention_order
        self.norm = _GroupNorm(norm_groups, channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj_out = _zeroed(nn.Conv1d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *spatial = x.shape
        x = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(x))  # [B, 3C, L]
        n, hd, length = self.num_heads, c // self.num_heads, x.shape[-1]
        if self.new_order:
            q, k, v = (t.reshape(b, n, hd, length) for t in qkv.chunk(3, dim=1))
        else:
            q, k, v = qkv.reshape(b, n, 3 * hd, length).split(hd, dim=2)
        # [B, n, L, hd] for scaled dot-product attention (scale 1/sqrt(hd), the default).
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))
        h = out.transpose(-1, -2).reshape(b, c, length)
        return (x + self.proj_out(h)).reshape(b, c, *spatial)


class _Block(nn.ModuleList):
    """A list of layers applied in order; ResBlocks also receive the time embedding."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class ADMUNet(nn.Module):
    """The guided-diffusion ``UNetModel`` (2-D), key- and shape-compatible with its checkpoints.

    Constructor arguments carry guided-diffusion's ``UNetModel`` names and meanings (note that
    ``attention_resolutions`` are *downsampling rates* here, e.g. ``(8, 16, 32)`` for attention at
    32, 16 and 8 px of a 256 px model; :func:`pixel.configs.unet_kwargs_from_flags` converts the
    command-line form). ``norm_groups`` (guided-diffusion: fixed 32) exists so that tests can build
    tiny models; it does not change any key or shape. Unsupported from ``UNetModel``: ``dims != 2``,
    ``use_fp16``, ``use_checkpoint`` (no effect on weights).

    Args:
        image_size: nominal training resolution (metadata only; any H, W divisible by
            ``2 ** (len(channel_mult) - 1)`` works).
        in_channels: image channels C.
        model_channels: base width ``mc``; the time embedding has ``4 * mc`` channels.
        out_channels: ``C`` (epsilon) or ``2C`` (learned sigma: epsilon then the variance interpolation
            v of Nichol & Dhariwal 2021, eq. 15).
        num_res_blocks: ResBlocks per level on the way down (one more per level on the way up).
        attention_resolutions: downsampling rates ``ds`` at which AttentionBlocks follow ResBlocks.
        dropout: dropout inside ResBlocks.
        channel_mult: width multiplier per level.
        conv_resample: learned 3x3 convs for resampling when ``resblock_updown`` is False.
        num_classes: class-conditional with this many classes (``label_emb``), or None.
        num_heads, num_head_channels, num_heads_upsample: attention heads (see AttentionBlock); a
            positive ``num_head_channels`` overrides the head counts; ``num_heads_upsample = -1``
            means ``num_heads``.
        use_scale_shift_norm: AdaGN conditioning in ResBlocks.
        resblock_updown: resample with ResBlocks (``up``/``down``) instead of ``_Up``/``_Down``.
        use_new_attention_order: QKV split order (see AttentionBlock).
        norm_groups: GroupNorm groups (32 in guided-diffusion).

    Raises:
        ValueError: on a head count that does not divide an attention width, or on widths not
            divisible by ``norm_groups`` (raised by ``nn.GroupNorm``).
    """

    def __init__(
        self,
        image_size: int | None,
        in_channels: int,
        model_channels: int,
        out_channels: int,
        num_res_blocks: int,
        attention_resolutions: Sequence[int],
        dropout: float = 0.0,
        channel_mult: Sequence[float] = (1, 2, 4, 8),
        conv_resample: bool = True,
        num_classes: int | None = None,
        num_heads: int = 1,
        num_head_channels: int = -1,
        num_heads_upsample: int = -1,
        use_scale_shift_norm: bool = False,
        resblock_updown: bool = False,
        use_new_attention_order: bool = False,
        norm_groups: int = 32,
    ):
        super().__init__()
        self.config = dict(
            image_size=image_size,
            in_channels=in_channels,
            model_channels=model_channels,
            out_channels=out_channels,
            num_res_blocks=num_res_blocks,
            attention_resolutions=sorted(int(a) for a in attention_resolutions),
            dropout=float(dropout),
            channel_mult=[m if isinstance(m, int) else float(m) for m in channel_mult],
            conv_resample=bool(conv_resample),
            num_classes=num_classes,
            num_heads=num_heads,
            num_head_channels=num_head_channels,
            num_heads_upsample=num_heads_upsample,
            use_scale_shift_norm=bool(use_scale_shift_norm),
            resblock_updown=bool(resblock_updown),
            use_new_attention_order=bool(use_new_attention_order),
            norm_groups=norm_groups,
        )
        if num_heads_upsample == -1:
            num_heads_upsample = num_heads
        self.in_channels, self.out_channels = in_channels, out_channels
        self.model_channels = model_channels
        self.num_classes = num_classes
        self.levels = len(channel_mult)
        attn = set(int(a) for a in attention_resolutions)
        emb_ch = 4 * model_channels

        def res(ch_in, ch_out=None, **kw):
            return ResBlock(
                ch_in,
                emb_ch,
                ch_out,
                dropout=dropout,
                use_scale_shift_norm=use_scale_shift_norm,
                norm_groups=norm_groups,
                **kw,
            )

        def att(ch, heads):
            return AttentionBlock(ch, heads, num_head_channels, use_new_attention_order, norm_groups)

        self.time_embed = nn.Sequential(
            nn.Linear(model_channels, emb_ch), nn.SiLU(), nn.Linear(emb_ch, emb_ch)
        )
        if num_classes is not None:
            # N(0, 1) init as nn.Embedding's default, skipped on the meta device (shape-only builds,
            # where torch's first meta normal_ costs seconds).
            self.label_emb = nn.Embedding(num_classes, emb_ch, _weight=torch.empty(num_classes, emb_ch))
            if not self.label_emb.weight.is_meta:
                nn.init.normal_(self.label_emb.weight)

        ch = input_ch = int(channel_mult[0] * model_channels)
        self.input_blocks = nn.ModuleList([_Block([nn.Conv2d(in_channels, ch, 3, padding=1)])])
        skip_chans = [ch]
        ds = 1
        for level, mult in enumerate(channel_mult):
            for _ in range(num_res_blocks):
                layers = [res(ch, int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in attn:
                    layers.append(att(ch, num_heads))
                self.input_blocks.append(_Block(layers))
                skip_chans.append(ch)
            if level != len(channel_mult) - 1:
                down = res(ch, ch, down=True) if resblock_updown else _Down(ch, conv_resample)
                self.input_blocks.append(_Block([down]))
                skip_chans.append(ch)
                ds *= 2

        self.middle_block = _Block([res(ch), att(ch, num_heads), res(ch)])

        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(num_res_blocks + 1):
                layers = [res(ch + skip_chans.pop(), int(mult * model_channels))]
                ch = int(mult * model_channels)
                if ds in attn:
                    layers.append(att(ch, num_heads_upsample))
                if level and i == num_res_blocks:
                    layers.append(res(ch, ch, up=True) if resblock_updown else _Up(ch, conv_resample))
                    ds //= 2
                self.output_blocks.append(_Block(layers))

        self.out = nn.Sequential(
            _GroupNorm(norm_groups, ch), nn.SiLU(), _zeroed(nn.Conv2d(input_ch, out_channels, 3, padding=1))
        )

    @property
    def learn_sigma(self) -> bool:
        """True when the output holds epsilon and the variance interpolation (``2C`` channels)."""
        return self.out_channels == 2 * self.in_channels

    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, y: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Predict the network output (epsilon, or epsilon and v with learned sigma).

        Args:
            x: ``[B, in_channels, H, W]``, the noisy image in the DDPM scaling
                ``sqrt(abar_t) x0 + sqrt(1 - abar_t) eps`` with x0 in [-1, 1]; H and W divisible by
                ``2 ** (levels - 1)``.
            timesteps: ``[B]`` (or a scalar, broadcast), step indices in [0, T-1]; fractional values
                are accepted (the embedding is continuous).
            y: ``[B]`` int64 class labels; required iff the model is class-conditional.

        Returns:
            ``[B, out_channels, H, W]`` in the dtype of x.

        Raises:
            ValueError: on a missing/unexpected ``y`` or a spatial size the levels cannot halve.
        """
        if (y is not None) != (self.num_classes is not None):
            raise ValueError("y (class labels) must be given if and only if the model is class-conditional")
        f = 2 ** (self.levels - 1)
        if x.shape[-1] % f or x.shape[-2] % f:
            raise ValueError(f"H and W must be divisible by {f}, got {tuple(x.shape[-2:])}")
        timesteps = torch.as_tensor(timesteps, device=x.device)
        if timesteps.ndim == 0:
            timesteps = timesteps.expand(x.shape[0])
        dtype = self.time_embed[0].weight.dtype
        emb = self.time_embed(timestep_embedding(timesteps, self.model_channels).to(dtype))
        if y is not None:
            emb = emb + self.label_emb(y.to(x.device).long())
        h = x.to(dtype)
        skips = []
        for block in self.input_blocks:
            h = block(h, emb)
            skips.append(h)
        h = self.middle_block(h, emb)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(h).to(x.dtype)

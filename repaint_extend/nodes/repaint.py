"""RePaint nodes: RePaint Sampler (SAMPLER), KSampler (RePaint) (LATENT), RePaint Mask (MASK).

Node IDs and input names are frozen (saved workflows refer to them); see tests/node_schema.json.
"""

from __future__ import annotations

import comfy.samplers
from comfy_api.latest import io

from ..adapters.sampler import KNOWN_NOISE, RePaintKSampler, power_scheduler_sigmas, repaint_ksampler
from ..samplers import MASK_PRESETS, repaint_mask

_CATEGORY = "sampling/repaint"


def _jump_inputs() -> list:
    return [
        io.Int.Input(
            "jump_length",
            default=10,
            min=1,
            max=1000,
            tooltip="j: how many steps each jump goes back (RePaint section 4.2).",
        ),
        io.Int.Input(
            "jump_n_sample",
            default=10,
            min=1,
            max=100,
            tooltip="r: how many times each stretch is sampled; 1 = no resampling.",
        ),
        io.Float.Input(
            "eta",
            default=1.0,
            min=0.0,
            max=1.0,
            step=0.01,
            tooltip="Noise of each reverse step: 1 = DDPM (the paper), 0 = DDIM.",
        ),
        io.Combo.Input(
            "known_noise",
            options=list(KNOWN_NOISE),
            default="fresh",
            tooltip="fresh: new noise for the known region at every step (RePaint); random / fixed: ComfyUI's reused noise.",
        ),
        io.Float.Input(
            "start_percent",
            default=0.0,
            min=0.0,
            max=1.0,
            step=0.01,
            optional=True,
            tooltip="Resample only from this point of sampling on (0 = first step).",
        ),
        io.Float.Input(
            "end_percent",
            default=1.0,
            min=0.0,
            max=1.0,
            step=0.01,
            optional=True,
            tooltip="Resample only up to this point of sampling (1 = last step).",
        ),
    ]


class RePaintSampler(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="RePaintSampler",
            display_name="RePaint Sampler",
            category=_CATEGORY,
            description="RePaint resampling (Lugmayr et al., CVPR 2022) as a SAMPLER for SamplerCustom and "
            "SamplerCustomAdvanced. The LATENT must carry a noise_mask.",
            inputs=_jump_inputs(),
            outputs=[io.Sampler.Output()],
        )

    @classmethod
    def execute(
        cls, jump_length, jump_n_sample, eta, known_noise, start_percent=0.0, end_percent=1.0
    ) -> io.NodeOutput:
        return io.NodeOutput(
            RePaintKSampler(jump_length, jump_n_sample, eta, known_noise, start_percent, end_percent)
        )


class KSamplerRePaint(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="KSamplerRePaint",
            display_name="KSampler (RePaint)",
            category=_CATEGORY,
            description="Inpaint a LATENT that carries a noise_mask with RePaint resampling; known latent "
            "pixels come back exactly as they went in. Progress counts model calls (NFE).",
            inputs=[
                io.Model.Input("model"),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True),
                io.Int.Input("steps", default=50, min=1, max=10000),
                io.Float.Input("cfg", default=7.0, min=0.0, max=100.0, step=0.1, round=0.01),
                io.Combo.Input("scheduler", options=comfy.samplers.SCHEDULER_NAMES, default="normal"),
                io.Conditioning.Input("positive"),
                io.Conditioning.Input("negative"),
                io.Latent.Input("latent_image", tooltip="A latent with a noise_mask (1 = generate)."),
                io.Float.Input("denoise", default=1.0, min=0.0, max=1.0, step=0.01),
                *_jump_inputs(),
            ],
            outputs=[io.Latent.Output()],
        )

    @classmethod
    def execute(
        cls,
        model,
        seed,
        steps,
        cfg,
        scheduler,
        positive,
        negative,
        latent_image,
        denoise,
        jump_length,
        jump_n_sample,
        eta,
        known_noise,
        start_percent=0.0,
        end_percent=1.0,
    ) -> io.NodeOutput:
        options = dict(
            jump_length=jump_length,
            jump_n_sample=jump_n_sample,
            eta=eta,
            known_noise=known_noise,
            start_percent=start_percent,
            end_percent=end_percent,
        )
        out = repaint_ksampler(
            model, seed, steps, cfg, scheduler, positive, negative, latent_image, denoise, **options
        )
        return io.NodeOutput(out)


class RePaintMask(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="RePaintMask",
            display_name="RePaint Mask",
            category=_CATEGORY,
            description="RePaint's evaluation masks (thin, thick, every second line, super-resolve 2x, expand, "
            "half). 1 = generate. thin and thick are random and follow the seed.",
            inputs=[
                io.Combo.Input("preset", options=list(MASK_PRESETS), default="half"),
                io.Int.Input("width", default=512, min=8, max=16384, step=8),
                io.Int.Input("height", default=512, min=8, max=16384, step=8),
                io.Int.Input("batch_size", default=1, min=1, max=4096),
                io.Int.Input("seed", default=0, min=0, max=0xFFFFFFFFFFFFFFFF, control_after_generate=True),
                io.Image.Input("size_from", optional=True, tooltip="Take width and height from this image."),
            ],
            outputs=[io.Mask.Output()],
        )

    @classmethod
    def execute(cls, preset, width, height, batch_size, seed, size_from=None) -> io.NodeOutput:
        if size_from is not None:
            height, width = int(size_from.shape[1]), int(size_from.shape[2])
        return io.NodeOutput(repaint_mask(preset, height, width, batch_size, seed % 2**63))


class RePaintPowerScheduler(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        return io.Schema(
            node_id="RePaintPowerScheduler",
            display_name="Power Scheduler (RePaint)",
            category=_CATEGORY,
            description="SIGMAS at timesteps t_k = t_max * (k / (steps - 1)) ** power: more steps at low noise for "
            "power > 1. With Langevin Inpaint Sampler, power 3 gave the lowest worst case over the pack's "
            "family benchmark of exact conditionals at 50-230 model calls (python -m bench.bench_family).",
            inputs=[
                io.Model.Input("model"),
                io.Int.Input("steps", default=50, min=2, max=10000),
                io.Float.Input("power", default=3.0, min=0.1, max=10.0, step=0.1),
            ],
            outputs=[io.Sigmas.Output()],
        )

    @classmethod
    def execute(cls, model, steps, power) -> io.NodeOutput:
        return io.NodeOutput(power_scheduler_sigmas(model, steps, power))


NODES = [RePaintSampler, KSamplerRePaint, RePaintMask, RePaintPowerScheduler]

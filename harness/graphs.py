"""API-format graphs built with ComfyUI's own ``GraphBuilder``, shared by tests, scripts and benchmarks."""

from __future__ import annotations


def _builder():
    from comfy_execution.graph_utils import GraphBuilder

    return GraphBuilder(prefix="")


def repaint_inpaint(
    *,
    kind: str = "eps",
    size: str = "tiny",
    image: str | None = None,
    width: int = 64,
    height: int = 64,
    batch_size: int = 1,
    preset: str = "half",
    mask_seed: int = 0,
    seed: int = 0,
    steps: int = 10,
    cfg: float = 1.0,
    scheduler: str = "normal",
    jump_length: int = 3,
    jump_n_sample: int = 2,
    eta: float = 1.0,
    known_noise: str = "fresh",
    prompt: str = "a photo",
    save_prefix: str | None = None,
):
    """RePaint inpainting: image (``LoadImage`` of ``image``, or a grey ``EmptyImage``) -> VAE encode ->
    ``RePaintMask`` -> ``KSampler (RePaint)`` -> VAE decode -> known pixels pasted back -> preview or save.

    For ``kind="inpaint"`` the latent and conditioning come from ``InpaintModelConditioning``.

    Returns:
        ``(prompt, ids)``: the API-format graph and a dict naming its key node ids
        (``latent``: the masked latent fed to the sampler; ``sampler``, ``mask``, ``image``, ``decoded``,
        ``composite``, ``output``).
    """
    g = _builder()
    ckpt = g.node("TinyCheckpointLoader", kind=kind, size=size, seed=0)
    positive = g.node("CLIPTextEncode", clip=ckpt.out(1), text=prompt)
    negative = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    if image is None:
        pixels = g.node("EmptyImage", width=width, height=height, batch_size=batch_size, color=0x808080)
    else:
        pixels = g.node("LoadImage", image=image)
    mask = g.node("RePaintMask", preset=preset, width=width, height=height, batch_size=1, seed=mask_seed)
    if kind == "inpaint":
        cond = g.node(
            "InpaintModelConditioning", positive=positive.out(0), negative=negative.out(0), vae=ckpt.out(2),
            pixels=pixels.out(0), mask=mask.out(0), noise_mask=True,
        )
        pos, neg, latent = cond.out(0), cond.out(1), cond.out(2)
        latent_node = cond
        latent_index = 2
    else:
        encoded = g.node("VAEEncode", pixels=pixels.out(0), vae=ckpt.out(2))
        latent_node = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
        pos, neg, latent = positive.out(0), negative.out(0), latent_node.out(0)
        latent_index = 0
    sampler = g.node(
        "KSamplerRePaint", model=ckpt.out(0), seed=seed, steps=steps, cfg=cfg, scheduler=scheduler,
        positive=pos, negative=neg, latent_image=latent, denoise=1.0, jump_length=jump_length,
        jump_n_sample=jump_n_sample, eta=eta, known_noise=known_noise,
    )
    decoded = g.node("VAEDecode", samples=sampler.out(0), vae=ckpt.out(2))
    keep = g.node("InvertMask", mask=mask.out(0))
    composite = g.node(
        "ImageCompositeMasked", destination=decoded.out(0), source=pixels.out(0), x=0, y=0,
        resize_source=False, mask=keep.out(0),
    )
    if save_prefix is None:
        output = g.node("PreviewImage", images=composite.out(0))
    else:
        output = g.node("SaveImage", images=composite.out(0), filename_prefix=save_prefix)
    ids = {
        "latent": (latent_node.id, latent_index),
        "sampler": sampler.id,
        "mask": mask.id,
        "image": pixels.id,
        "decoded": decoded.id,
        "composite": composite.id,
        "output": output.id,
    }
    return g.finalize(), ids

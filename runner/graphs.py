"""API-format graphs built with ComfyUI's own ``GraphBuilder``: the shipped workflows
(``scripts/make_workflows.py``) and the pieces they are made of. Models are named as ComfyUI's loaders
name them (files in its model folders); the tests swap in stand-ins (``support.graphs``)."""

from __future__ import annotations


def _builder():
    from comfy_execution.graph_utils import GraphBuilder

    return GraphBuilder(prefix="")


DEFAULT_CHECKPOINT = "v1-5-pruned-emaonly.safetensors"
DEFAULT_OPENPOSE = "control_v11p_sd15_openpose.pth"
SDXL_CHECKPOINT = "sd_xl_base_1.0.safetensors"
SDXL_OPENPOSE = "thibaud_xl_openpose.safetensors"
FAMILY_OF_CHECKPOINT = {DEFAULT_CHECKPOINT: "sd15", SDXL_CHECKPOINT: "sdxl"}
"""Model family of each checkpoint name the shipped workflows use (tests swap in stand-ins of it)."""


def _decode_keeping_known(g, samples, vae, pixels, mask):
    """VAE-decode ``samples`` and paste the known pixels (mask 0) of ``pixels`` back over the result, with
    ComfyUI's own InvertMask and ImageCompositeMasked. Returns the decode and the composite nodes."""
    decoded = g.node("VAEDecode", samples=samples, vae=vae)
    keep = g.node("InvertMask", mask=mask)
    composite = g.node(
        "ImageCompositeMasked",
        destination=decoded.out(0),
        source=pixels,
        x=0,
        y=0,
        resize_source=False,
        mask=keep.out(0),
    )
    return decoded, composite


def ksampler_repaint(
    g,
    model,
    positive,
    negative,
    latent,
    *,
    seed: int = 0,
    steps: int = 4,
    cfg: float = 2.0,
    scheduler: str = "normal",
    jump_length: int = 2,
    jump_n_sample: int = 2,
    eta: float = 1.0,
    known_noise: str = "fresh",
    denoise: float = 1.0,
    **window,
):
    """Add the pack's KSampler (RePaint) on the given MODEL, CONDITIONING and LATENT outputs; ``window``
    holds its optional inputs (``start_percent``, ``end_percent``), left out (their defaults) if not given."""
    return g.node(
        "KSamplerRePaint",
        model=model,
        seed=seed,
        steps=steps,
        cfg=cfg,
        scheduler=scheduler,
        positive=positive,
        negative=negative,
        latent_image=latent,
        denoise=denoise,
        jump_length=jump_length,
        jump_n_sample=jump_n_sample,
        eta=eta,
        known_noise=known_noise,
        **window,
    )


LANGEVIN_POWER = 3.0
"""Power Scheduler (RePaint)'s power with Langevin Inpaint Sampler in the shipped workflows (about 200 model
calls a window): chosen by the worst case of the family benchmark's tuned part at 50-230 NFE
(``python -m bench.bench_family tune``: worst W2 / spread 11.2 % at 230 NFE, 13.9 % with 2.5)."""


def langevin_sampling(g, model, *, steps: int, corrector_steps: int = 4, power: float = LANGEVIN_POWER):
    """Add the pack's best inpainting sampler (issue 15): Langevin Inpaint Sampler with ``corrector_steps``
    and its defaults, and Power Scheduler (RePaint) over ``steps`` levels at ``power``
    on the MODEL output ``model``: ``steps + corrector_steps * (steps - 1)`` model calls a run. Returns
    the (sampler, scheduler) nodes (SAMPLER and SIGMAS at output 0)."""
    sampler = g.node(
        "LangevinInpaintSampler", corrector_steps=corrector_steps, step_size=1.5, friction=0.02, eta=1.0
    )
    sigmas = g.node("RePaintPowerScheduler", model=model, steps=steps, power=power)
    return sampler, sigmas


def inpaint_sampler(
    g,
    sampler: str,
    model,
    positive,
    negative,
    latent,
    *,
    seed: int,
    steps: int,
    cfg: float,
    corrector_steps: int = 4,
    **repaint,
):
    """Add the sampler of an inpainting graph on a LATENT with a noise_mask: ``"ksampler_repaint"``
    (:func:`ksampler_repaint`, ``repaint`` its jump inputs) or ``"langevin"`` (SamplerCustom with
    :func:`langevin_sampling`). Returns the node whose output 0 is the sampled LATENT."""
    if sampler == "ksampler_repaint":
        return ksampler_repaint(
            g, model, positive, negative, latent, seed=seed, steps=steps, cfg=cfg, **repaint
        )
    if sampler != "langevin":
        raise ValueError(f"sampler must be 'ksampler_repaint' or 'langevin', got {sampler!r}")
    langevin, sigmas = langevin_sampling(g, model, steps=steps, corrector_steps=corrector_steps)
    return g.node(
        "SamplerCustom",
        model=model,
        add_noise=True,
        noise_seed=seed,
        cfg=cfg,
        positive=positive,
        negative=negative,
        sampler=langevin.out(0),
        sigmas=sigmas.out(0),
        latent_image=latent,
    )


MAX_PEOPLE = 16
"""Pose Detect's ``max_people`` in the shipped workflows: every person (the node's largest value,
``pose.detect.MAX_PEOPLE``; the runner's person check uses ``pose.detect.detect_people`` with it)."""


def detect_complete_pad(
    g,
    image,
    *,
    bottom: int | None = None,
    margin: int = 32,
    multiple: int = 64,
    max_people: int = MAX_PEOPLE,
    whole_body: bool = False,
):
    """Add Pose Detect (MediaPipe, ``max_people``: every person by default; with hands and face when
    ``whole_body``) -> Pose Complete Legs (straight, symmetric, feet) -> Pose Pad Image/Mask/Pose on the
    IMAGE output ``image``: ``auto`` padding, or ``bottom`` px at the bottom. Returns the three nodes (the
    pad's outputs: image, mask, pose). Pose Detect's ``face`` (on by default) is written out; its ``hands``
    (off by default) only with ``whole_body``."""
    extra = {"hands": True, "face": True} if whole_body else {"face": True}
    detect = g.node("PoseDetectMediaPipe", image=image, max_people=max_people, visibility=0.5, **extra)
    legs = g.node(
        "PoseCompleteLegs",
        pose=detect.out(0),
        stance="straight",
        symmetry=True,
        use_detector_guess=True,
        feet=True,
    )
    pad = g.node(
        "PosePadImageMaskPose",
        image=image,
        pose=legs.out(0),
        padding="auto" if bottom is None else "manual",
        left=0,
        top=0,
        right=0,
        bottom=bottom or 0,
        margin=margin,
        multiple=multiple,
        fill="edge",
        grow=0,
        feather=0,
    )
    return detect, legs, pad


def outpaint_tiled(
    g,
    ckpt,
    positive,
    negative,
    pad,
    *,
    seed: int = 0,
    steps: int = 4,
    cfg: float = 2.0,
    tile: int = 64,
    overlap: int = 16,
    feather: int = 8,
    jump_length: int = 2,
    jump_n_sample: int = 2,
    mode: str | None = "sequential",
    sampler: str = "repaint",
    corrector_steps: int = 4,
    **optional,
):
    """Add ``RePaintSampler`` (``sampler="repaint"``; or with ``"langevin"`` :func:`langevin_sampling`,
    its SIGMAS to OutpaintTiled's ``sigmas``) and ``OutpaintTiled`` to the builder ``g``: the checkpoint
    node ``ckpt``'s MODEL and VAE, the ``positive`` / ``negative`` outputs, ``pad``'s image (output 0)
    and mask (output 1), square tiles of ``tile`` px; ``optional`` holds OutpaintTiled's optional inputs
    (ControlNet, per-tile prompts); ``mode`` None leaves the node's default (``auto``). Returns the
    OutpaintTiled node."""
    if mode is not None:
        optional["mode"] = mode
    if sampler == "langevin":
        node, sigmas = langevin_sampling(g, ckpt.out(0), steps=steps, corrector_steps=corrector_steps)
        optional["sigmas"] = sigmas.out(0)
    elif sampler == "repaint":
        node = g.node(
            "RePaintSampler",
            jump_length=jump_length,
            jump_n_sample=jump_n_sample,
            eta=1.0,
            known_noise="fresh",
        )
    else:
        raise ValueError(f"sampler must be 'repaint' or 'langevin', got {sampler!r}")
    return outpaint_node(
        g, ckpt.out(0), ckpt.out(2), positive, negative, pad, node.out(0),
        seed=seed, steps=steps, cfg=cfg, tile=tile, overlap=overlap, feather=feather, **optional,
    )  # fmt: skip


def outpaint_node(
    g, model, vae, positive, negative, pad, sampler, *, seed, steps, cfg, tile, overlap, feather, **optional
):
    """One ``OutpaintTiled`` node on ``pad``'s image (output 0) and mask (output 1), square tiles of
    ``tile`` px, scheduler ``normal``; ``model``, ``vae``, ``positive``, ``negative`` and ``sampler`` are
    node outputs; ``optional`` holds its optional inputs. Returns the node."""
    return g.node(
        "OutpaintTiled",
        model=model,
        vae=vae,
        positive=positive,
        negative=negative,
        image=pad.out(0),
        mask=pad.out(1),
        seed=seed,
        steps=steps,
        cfg=cfg,
        scheduler="normal",
        tile_width=tile,
        tile_height=tile,
        overlap=overlap,
        feather=feather,
        sampler=sampler,
        **optional,
    )


def repaint_inpaint(
    *,
    ckpt_name: str = DEFAULT_CHECKPOINT,
    kind: str = "eps",
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
    sampler: str = "ksampler_repaint",
):
    """RePaint inpainting: image (``LoadImage`` of ``image``, or a grey ``EmptyImage``) -> VAE encode ->
    ``RePaintMask`` -> ``KSampler (RePaint)`` (or with ``sampler="langevin"`` SamplerCustom with the
    Langevin Inpaint Sampler, :func:`inpaint_sampler`) -> VAE decode -> known pixels pasted back ->
    preview or save.

    The model is ``CheckpointLoaderSimple(ckpt_name)``; for an inpaint model (``kind="inpaint"``: 9
    input channels) the latent and conditioning come from ``InpaintModelConditioning``.

    Returns:
        ``(prompt, ids)``: the API-format graph and a dict naming its key node ids
        (``latent``: the masked latent fed to the sampler; ``sampler``, ``mask``, ``image``, ``decoded``,
        ``composite``, ``output``).
    """
    g = _builder()
    ckpt = g.node("CheckpointLoaderSimple", ckpt_name=ckpt_name)
    positive = g.node("CLIPTextEncode", clip=ckpt.out(1), text=prompt)
    negative = g.node("CLIPTextEncode", clip=ckpt.out(1), text="")
    if image is None:
        pixels = g.node("EmptyImage", width=width, height=height, batch_size=batch_size, color=0x808080)
    else:
        pixels = g.node("LoadImage", image=image)
    mask = g.node(
        "RePaintMask",
        preset=preset,
        width=width,
        height=height,
        batch_size=1,
        seed=mask_seed,
        size_from=pixels.out(0),
    )
    if kind == "inpaint":
        cond = g.node(
            "InpaintModelConditioning",
            positive=positive.out(0),
            negative=negative.out(0),
            vae=ckpt.out(2),
            pixels=pixels.out(0),
            mask=mask.out(0),
            noise_mask=True,
        )
        pos, neg, latent = cond.out(0), cond.out(1), cond.out(2)
        latent_node = cond
        latent_index = 2
    else:
        encoded = g.node("VAEEncode", pixels=pixels.out(0), vae=ckpt.out(2))
        latent_node = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
        pos, neg, latent = positive.out(0), negative.out(0), latent_node.out(0)
        latent_index = 0
    repaint = dict(
        scheduler=scheduler,
        jump_length=jump_length,
        jump_n_sample=jump_n_sample,
        eta=eta,
        known_noise=known_noise,
    )
    sampler = inpaint_sampler(
        g, sampler, ckpt.out(0), pos, neg, latent, seed=seed, steps=steps, cfg=cfg, **repaint
    )
    decoded, composite = _decode_keeping_known(g, sampler.out(0), ckpt.out(2), pixels.out(0), mask.out(0))
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


def repaint_pixel_demo(
    *,
    image: str = "example.png",
    size: int = 64,
    ckpt_name: str = "[embedded] photos 64x64",
    preset: str = "half",
    seed: int = 0,
    steps: int = 50,
    jump_length: int = 5,
    jump_n_sample: int = 5,
    save_prefix: str = "repaint_pixel",
    sampler: str = "ksampler_repaint",
):
    """RePaint on a pixel-space model: Load ADM Pixel Model -> image scaled to the model's native ``size`` ->
    identity VAE -> RePaint Mask -> KSampler (RePaint) or ``sampler`` (:func:`inpaint_sampler`) (its prompts are the loader's empty conditioning,
    cfg 1) -> decode -> known pixels pasted back -> save. Pixel-space models run at their native size (attention cost grows with the
    square of the pixel count)."""
    g = _builder()
    load = g.node("LoadADMPixelModel", ckpt_name=ckpt_name, num_head_channels=64, num_heads=4)
    photo = g.node("LoadImage", image=image)
    pixels = g.node(
        "ImageScale", image=photo.out(0), upscale_method="area", width=size, height=size, crop="center"
    )
    encoded = g.node("VAEEncode", pixels=pixels.out(0), vae=load.out(1))
    mask = g.node(
        "RePaintMask",
        preset=preset,
        width=size,
        height=size,
        batch_size=1,
        seed=seed,
        size_from=pixels.out(0),
    )
    latent = g.node("SetLatentNoiseMask", samples=encoded.out(0), mask=mask.out(0))
    sampler = inpaint_sampler(
        g,
        sampler,
        load.out(0),
        load.out(2),
        load.out(2),
        latent.out(0),
        seed=seed,
        steps=steps,
        cfg=1.0,
        jump_length=jump_length,
        jump_n_sample=jump_n_sample,
    )
    _, composite = _decode_keeping_known(g, sampler.out(0), load.out(1), pixels.out(0), mask.out(0))
    output = g.node("SaveImage", images=composite.out(0), filename_prefix=save_prefix)
    return g.finalize(), {
        "sampler": sampler.id,
        "latent": (latent.id, 0),
        "output": output.id,
        "mask": mask.id,
    }


LDM_INPAINT_CHECKPOINT = "last.ckpt"
"""latent-diffusion's ``models/ldm/inpainting_big/last.ckpt``, in ``ComfyUI/models/ldm_inpainting/``."""


def ldm_inpaint(
    *,
    ckpt_name: str = LDM_INPAINT_CHECKPOINT,
    image: str = "example.png",
    size: int = 512,
    preset: str = "thick",
    mask_seed: int = 0,
    seed: int = 0,
    steps: int = 50,
    sampler: str = "ddim",
    jump_length: int = 10,
    jump_n_sample: int = 5,
    save_prefix: str = "ldm_inpaint",
):
    """latent-diffusion's inpainting model: Load LDM Inpainting Checkpoint -> image scaled to ``size`` ->
    RePaint Mask (``preset``) -> LDM Inpaint Conditioning -> KSampler (``ddim`` with ``ddim_uniform``, cfg 1,
    as ``scripts/inpaint.py``'s 50-step DDIM, eta 0: ``sampler="ddim"``), or ``sampler`` "ksampler_repaint" /
    "langevin" (:func:`inpaint_sampler`) -> VAE decode ->
    known pixels pasted back -> save.

    Returns:
        ``(prompt, ids)``; ids: ``loader``, ``image``, ``mask``, ``conditioning``, ``sampler``,
        ``decoded``, ``composite``, ``output``.
    """
    g = _builder()
    load = g.node("LoadLDMInpaintCheckpoint", ckpt_name=ckpt_name)
    photo = g.node("LoadImage", image=image)
    pixels = g.node(
        "ImageScale", image=photo.out(0), upscale_method="area", width=size, height=size, crop="center"
    )
    mask = g.node(
        "RePaintMask",
        preset=preset,
        width=size,
        height=size,
        batch_size=1,
        seed=mask_seed,
        size_from=pixels.out(0),
    )
    cond = g.node("LDMInpaintConditioning", vae=load.out(1), pixels=pixels.out(0), mask=mask.out(0))
    if sampler != "ddim":
        sampler = inpaint_sampler(
            g,
            sampler,
            load.out(0),
            cond.out(0),
            cond.out(1),
            cond.out(2),
            seed=seed,
            steps=steps,
            cfg=1.0,
            jump_length=jump_length,
            jump_n_sample=jump_n_sample,
        )
    else:
        sampler = g.node(
            "KSampler",
            model=load.out(0),
            seed=seed,
            steps=steps,
            cfg=1.0,
            sampler_name="ddim",
            scheduler="ddim_uniform",
            positive=cond.out(0),
            negative=cond.out(1),
            latent_image=cond.out(2),
            denoise=1.0,
        )
    # the composite keeps the pixels the model was told are known: the conditioning's thresholded mask
    decoded, composite = _decode_keeping_known(g, sampler.out(0), load.out(1), pixels.out(0), cond.out(3))
    output = g.node("SaveImage", images=composite.out(0), filename_prefix=save_prefix)
    return g.finalize(), {
        "loader": load.id,
        "image": pixels.id,
        "mask": mask.id,
        "conditioning": cond.id,
        "sampler": sampler.id,
        "decoded": decoded.id,
        "composite": composite.id,
        "output": output.id,
    }


def composite_and_save(g, pad, hint, tiled, color_match_band: int, save_prefix: str):
    """The main job's end: Outpaint Composite (the padded photo's known pixels put back) -> Save Image, and
    the pose overlay (``ImageBlend``, screen, 0.6) and the mask saved beside it as ``<prefix>_pose`` and
    ``<prefix>_mask``. Returns the (composite, save) nodes."""
    final = g.node(
        "OutpaintComposite",
        original=pad.out(0),
        generated=tiled.out(0),
        mask=pad.out(1),
        color_match_band=color_match_band,
    )
    output = g.node("SaveImage", images=final.out(0), filename_prefix=save_prefix)
    overlay = g.node(
        "ImageBlend", image1=pad.out(0), image2=hint.out(0), blend_factor=0.6, blend_mode="screen"
    )
    g.node("SaveImage", images=overlay.out(0), filename_prefix=f"{save_prefix}_pose")
    mask_image = g.node("MaskToImage", mask=pad.out(1))
    g.node("SaveImage", images=mask_image.out(0), filename_prefix=f"{save_prefix}_mask")
    return final, output


def extend_legs(
    *,
    image: str = "example.png",
    ckpt_name: str = DEFAULT_CHECKPOINT,
    controlnet_name: str = DEFAULT_OPENPOSE,
    prompt: str = "full-length photo of a person, legs and feet, shoes, natural light",
    negative_prompt: str = "cropped, deformed legs, extra limbs, blurry",
    seed: int = 0,
    steps: int = 50,
    cfg: float = 7.0,
    jump_length: int = 10,
    jump_n_sample: int = 5,
    tile: int = 512,
    overlap: int = 64,
    feather: int = 32,
    margin: int = 32,
    multiple: int = 64,
    color_match_band: int = 32,
    save_prefix: str = "extend_legs",
    control: bool = True,
    bottom: int | None = None,
    mode: str = "auto",
    sampler: str = "repaint",
    corrector_steps: int = 4,
    whole_body: bool = False,
):
    """The pack's main job: photo -> Pose Detect -> Pose Complete Legs -> Pose Pad Image/Mask/Pose (auto) ->
    Pose Editor (no edits: passes the pose through) -> Pose Render -> Outpaint (Tiled) with RePaint and the OpenPose ControlNet (hint cropped per tile) ->
    Outpaint Composite (known pixels bit-exact) -> save image, pose overlay and mask.

    ``ckpt_name`` / ``controlnet_name`` are files in ComfyUI's ``checkpoints`` / ``controlnet`` folders;
    ``control=False`` leaves the ControlNet out; ``bottom`` pads that many px at the bottom instead of ``auto``;
    ``sampler`` "repaint" or "langevin" (:func:`outpaint_tiled`); ``whole_body`` detects and draws hands
    and face too (an openpose_full hint).
    """
    g = _builder()
    photo = g.node("LoadImage", image=image)
    pose, legs, pad = detect_complete_pad(
        g, photo.out(0), bottom=bottom, margin=margin, multiple=multiple, whole_body=whole_body
    )
    editor = g.node("PoseEditor", width=512, height=512, edits="", pose=pad.out(2), image=pad.out(0))
    hint = g.node("PoseRender", pose=editor.out(0), body=True, feet=True, hands=whole_body, face=whole_body)
    ckpt = g.node("CheckpointLoaderSimple", ckpt_name=ckpt_name)
    positive = g.node("CLIPTextEncode", clip=ckpt.out(1), text=prompt)
    negative = g.node("CLIPTextEncode", clip=ckpt.out(1), text=negative_prompt)
    control_inputs = {}
    if control:
        net = g.node("ControlNetLoader", control_net_name=controlnet_name)
        control_inputs = dict(
            control_net=net.out(0),
            control_image=hint.out(0),
            control_strength=1.0,
            control_start=0.0,
            control_end=1.0,
        )
    tiled = outpaint_tiled(
        g,
        ckpt,
        positive.out(0),
        negative.out(0),
        pad,
        seed=seed,
        steps=steps,
        cfg=cfg,
        tile=tile,
        overlap=overlap,
        feather=feather,
        jump_length=jump_length,
        jump_n_sample=jump_n_sample,
        mode=mode,
        sampler=sampler,
        corrector_steps=corrector_steps,
        **control_inputs,
    )
    final, output = composite_and_save(g, pad, hint, tiled, color_match_band, save_prefix)
    return g.finalize(), {
        "photo": photo.id,
        "pad": pad.id,
        "editor": editor.id,
        "hint": hint.id,
        "tiled": tiled.id,
        "final": final.id,
        "output": output.id,
    }


def extend_legs_demo(
    *,
    image: str = "example.png",
    ckpt_name: str = "[embedded] photos 64x64",
    tile: int = 64,
    overlap: int = 16,
    feather: int = 8,
    multiple: int = 32,
    max_side: int = 512,
    seed: int = 0,
    steps: int = 12,
    cfg: float = 1.0,
    levels: int = 7,
    power: float = 2.5,
    corrector_steps: int = 2,
    margin: int = 32,
    color_match_band: int = 32,
    save_prefix: str = "extend_legs_demo",
):
    """:func:`extend_legs` on a pixel-space model with nothing to download (the pack's embedded demo model
    by default), without ControlNet, for the browser: photo -> scaled to at most ``max_side`` px on its
    longer side (``ImageScaleToMaxDimension``, area: a photo of that size passes bit-exact) -> Pose Detect
    -> Pose Complete Legs -> Pose Pad (``auto``, a multiple of half a tile) -> Pose Editor -> Pose Render
    (the overlay) -> Outpaint (Tiled) ``auto`` with Langevin Inpaint Sampler (``corrector_steps``) on
    Power Scheduler (RePaint) over ``levels`` levels, tiles of ``tile`` px (the model's size), the loader's
    empty conditioning, cfg 1 -> Outpaint Composite -> save image, overlay and mask.

    The settings are the runner's demo mode (scripts/run_workflow.py ``use_demo_model``); the caller passes
    them (scripts/make_workflows.py takes them from there). Returns ``(prompt, ids)`` as :func:`extend_legs`.
    """
    g = _builder()
    load = g.node("LoadADMPixelModel", ckpt_name=ckpt_name, num_head_channels=64, num_heads=4)
    photo = g.node("LoadImage", image=image)
    scaled = g.node(
        "ImageScaleToMaxDimension", image=photo.out(0), upscale_method="area", largest_size=max_side
    )
    _, _, pad = detect_complete_pad(g, scaled.out(0), margin=margin, multiple=multiple)
    editor = g.node("PoseEditor", width=512, height=512, edits="", pose=pad.out(2), image=pad.out(0))
    hint = g.node("PoseRender", pose=editor.out(0), body=True, feet=True, hands=False, face=False)
    sampler, sigmas = langevin_sampling(
        g, load.out(0), steps=levels, corrector_steps=corrector_steps, power=power
    )
    tiled = outpaint_node(
        g, load.out(0), load.out(1), load.out(2), load.out(2), pad, sampler.out(0),
        seed=seed, steps=steps, cfg=cfg, tile=tile, overlap=overlap, feather=feather,
        mode="auto", sigmas=sigmas.out(0),
    )  # fmt: skip
    final, output = composite_and_save(g, pad, hint, tiled, color_match_band, save_prefix)
    return g.finalize(), {
        "photo": photo.id,
        "scaled": scaled.id,
        "pad": pad.id,
        "editor": editor.id,
        "hint": hint.id,
        "tiled": tiled.id,
        "final": final.id,
        "output": output.id,
    }

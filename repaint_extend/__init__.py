"""comfyui-repaint-extend: RePaint resampling, OpenPose with feet, pose-conditioned inpainting and
tiled outpainting for ComfyUI, as one package.

The core packages (:mod:`.samplers`, :mod:`.pose`, :mod:`.outpaint`, :mod:`.pixel`, :mod:`.caption`,
:mod:`.checks`) are pure torch / numpy and import no ComfyUI; :mod:`.adapters` turns ComfyUI objects into
what the core takes and back; :mod:`.nodes` holds the V3 node classes. Nothing here imports ComfyUI at
import time, so scripts and tests import the core without a running host. ComfyUI loads the pack from the
repository root's ``__init__.py``, which re-exports :func:`comfy_entrypoint`.
"""

__all__ = ["comfy_entrypoint"]


async def comfy_entrypoint():
    """V3 entry point: return the pack's :class:`comfy_api.latest.ComfyExtension` (and, on a server, add
    the runner's clean-up route: :mod:`.adapters.routes`)."""
    from .adapters import routes
    from .nodes import RePaintExtendExtension

    routes.register()
    return RePaintExtendExtension()

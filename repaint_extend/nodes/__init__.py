"""ComfyUI nodes (V3 schema). Thin wrappers: each converts types and calls the core packages.

Node families live in ``nodes_<family>.py``; this file only lists them.
"""

from comfy_api.latest import ComfyExtension, io
from typing_extensions import override

from . import (
    nodes_caption,
    nodes_control,
    nodes_langevin,
    nodes_ldm,
    nodes_outpaint,
    nodes_pixel,
    nodes_pose,
    nodes_pose_editor,
    nodes_repaint,
)


class RePaintExtendExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [
            *nodes_repaint.NODES,
            *nodes_langevin.NODES,
            *nodes_pose.NODES,
            *nodes_pixel.NODES,
            *nodes_ldm.NODES,
            *nodes_control.NODES,
            *nodes_outpaint.NODES,
            *nodes_caption.NODES,
            *nodes_pose_editor.NODES,
        ]

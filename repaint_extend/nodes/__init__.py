"""ComfyUI nodes (V3 schema), one module per family. Thin wrappers: each converts ComfyUI types and calls
the core packages, through :mod:`repaint_extend.adapters` where ComfyUI objects are involved.

This file only lists the families. Node IDs and input names are frozen (``tests/node_schema.json``).
"""

from comfy_api.latest import ComfyExtension, io
from typing_extensions import override

from . import caption, control, langevin, ldm, outpaint, pixel, pose, pose_editor, repaint


class RePaintExtendExtension(ComfyExtension):
    @override
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [
            *repaint.NODES,
            *langevin.NODES,
            *pose.NODES,
            *pixel.NODES,
            *ldm.NODES,
            *control.NODES,
            *outpaint.NODES,
            *caption.NODES,
            *pose_editor.NODES,
        ]

"""The pack's one HTTP route on a ComfyUI server: the headless runner removes what it left there.

``POST /repaint_extend/cleanup`` with ``{"input": [names], "output": [subfolders]}`` deletes the photos
the runner uploaded (``run-workflow-<16 hex>.png`` in the input folder) and the output subfolders its
prompts saved into (``run-workflow-<32 hex>`` in the output folder). Nothing else can be named: any other
name is refused (HTTP 400) and nothing is deleted. Registered only when ComfyUI runs as a server.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

INPUT_NAME = re.compile(r"^run-workflow-[0-9a-f]{16}\.png$")
"""The names of the runner's uploads (``runner.prompts.photo_png``)."""
OUTPUT_FOLDER = re.compile(r"^run-workflow-[0-9a-f]{32}$")
"""The output subfolders of the runner's server prompts (``runner.batch``)."""
ROUTE = "/repaint_extend/cleanup"


def cleanup(input_dir: str, output_dir: str, inputs: list, outputs: list) -> list[str]:
    """Delete ``inputs`` (file names in ``input_dir``) and ``outputs`` (subfolders of ``output_dir``), each
    checked against :data:`INPUT_NAME` / :data:`OUTPUT_FOLDER` first. Returns what was deleted.

    Raises:
        ValueError: a name that is not the runner's (nothing deleted then).
    """
    bad = [n for n in inputs if not (isinstance(n, str) and INPUT_NAME.match(n))]
    bad += [n for n in outputs if not (isinstance(n, str) and OUTPUT_FOLDER.match(n))]
    if bad:
        raise ValueError(f"not files of the runner: {bad[:3]}")
    deleted = []
    for name in inputs:
        path = os.path.join(input_dir, name)
        if os.path.isfile(path):
            os.remove(path)
            deleted.append(name)
    for name in outputs:
        path = os.path.join(output_dir, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
            deleted.append(name + "/")
    return deleted


def register() -> bool:
    """Add the route to the running ComfyUI server (False, and nothing done, in-process without one)."""
    server = sys.modules.get("server")
    instance = getattr(getattr(server, "PromptServer", None), "instance", None)
    if instance is None:
        return False
    import folder_paths
    from aiohttp import web

    @instance.routes.post(ROUTE)
    async def _cleanup(request):
        try:
            body = await request.json()
            deleted = cleanup(
                folder_paths.get_input_directory(),
                folder_paths.get_output_directory(),
                list(body.get("input", [])),
                list(body.get("output", [])),
            )
        except (ValueError, AttributeError, TypeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        return web.json_response({"deleted": deleted})

    return True

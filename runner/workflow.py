"""Workflow files, read and checked before ComfyUI starts: UI workflow or API prompt, nesting depth,
structure; and their API prompt (:func:`to_prompt`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository: shipped workflows are in ``ROOT / "workflows"``."""


MAX_JSON_DEPTH = 64
"""Deepest nesting accepted in a workflow file (ComfyUI's own files nest about 6 levels)."""


class RunError(RuntimeError):
    """A run that cannot go on; the message is one line naming the input and the cause."""


@dataclass(frozen=True)
class Workflow:
    """A workflow file whose structure was checked: ``data`` is a UI workflow, or an API prompt when
    ``api``."""

    path: Path
    data: dict
    api: bool

    def max_people(self) -> int | None:
        """Pose Detect (MediaPipe)'s ``max_people`` in the workflow (None: it has no such node); in a UI
        workflow the first widget value of the node, as ComfyUI saves it."""
        for node in self.data.values() if self.api else self.data["nodes"]:
            if (node.get("class_type") if self.api else node.get("type")) != "PoseDetectMediaPipe":
                continue
            if self.api:
                value = node.get("inputs", {}).get("max_people", 1)
            else:
                value = (node.get("widgets_values") or [1])[0]
            return value if isinstance(value, int) and not isinstance(value, bool) else 1
        return None

    def class_types(self) -> set[str]:
        """The node types it runs (UI notes and muted or bypassed nodes left out)."""
        if self.api:
            return {node["class_type"] for node in self.data.values()}
        from . import workflow_format

        return {
            node["type"]
            for node in self.data["nodes"]
            if node["type"] not in workflow_format.UI_ONLY and node.get("mode", 0) not in (2, 4)
        }


@dataclass(frozen=True)
class Options:
    """What the command line may change: models (names in ComfyUI's folders or paths), seed, steps, and
    the people Pose Detect poses."""

    checkpoint: str | None = None
    controlnet: str | None = None
    seed: int | None = None
    steps: int | None = None
    max_people: int | None = None


DEFAULT_OPTIONS = Options()
"""No model, seed or steps given: the workflow's own."""


def find_workflow(name_or_path: str | os.PathLike) -> Path:
    """The file of a shipped workflow's name, or the path itself.

    Raises:
        RunError: neither exists (lists the shipped workflows).
    """
    path = Path(name_or_path)
    if not path.is_file():
        path = ROOT / "workflows" / f"{name_or_path}.json"
    if not path.is_file():
        names = ", ".join(p.stem for p in sorted((ROOT / "workflows").glob("*.json")))
        raise RunError(f"workflow {str(name_or_path)!r} not found: give a path or one of {names}")
    return path


def load_workflow(name_or_path: str | os.PathLike) -> Workflow:
    """Read and check a workflow file without ComfyUI: JSON, nesting depth, UI or API structure.

    Raises:
        RunError naming the file: missing, not UTF-8 JSON, nested deeper than :data:`MAX_JSON_DEPTH`,
            or neither a UI workflow nor an API prompt.
    """
    path = find_workflow(name_or_path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise RunError(f"{path}: JSON nested too deeply to be a ComfyUI workflow") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunError(f"{path} is not JSON: {error}") from None
    except OSError as error:
        raise RunError(f"{path}: cannot be read ({error.strerror})") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise RunError(f"{path}: JSON nested deeper than {MAX_JSON_DEPTH} levels: not a ComfyUI workflow")
    problem = _ui_problem(data)
    if problem is None:
        return Workflow(path, data, api=False)
    api_problem = _api_problem(data)
    if api_problem is None:
        return Workflow(path, data, api=True)
    if isinstance(data, dict) and "nodes" in data:
        raise RunError(f"{path}: not a ComfyUI workflow: {problem}")
    if (
        isinstance(data, dict)
        and data
        and all(isinstance(v, dict) and "class_type" in v for v in data.values())
    ):
        raise RunError(f"{path}: not a ComfyUI API prompt: {api_problem}")
    raise RunError(
        f"{path}: not a ComfyUI workflow: expected a UI workflow (an object with 'nodes' and 'links' "
        'lists) or an API prompt ({"1": {"class_type": ..., "inputs": {...}}})'
    )


def json_depth(value) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), counted without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _ui_problem(data) -> str | None:
    """What makes ``data`` not a UI workflow (None if it is one)."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        return "expected a JSON object with 'nodes' and 'links' lists"
    if not isinstance(data.get("links"), list):
        return "'links' must be a list"
    for i, node in enumerate(data["nodes"]):
        if not isinstance(node, dict) or not isinstance(node.get("type"), str) or "id" not in node:
            return f"nodes[{i}] must be an object with an 'id' and a 'type'"
        if not isinstance(node.get("widgets_values") or [], list):
            return f"nodes[{i}] ({node['type']}): 'widgets_values' must be a list"
    for i, link in enumerate(data["links"]):
        if not isinstance(link, list) or len(link) < 5:
            return f"links[{i}] must be [id, from_node, from_slot, to_node, to_slot, type]"
    return None


def _api_problem(data) -> str | None:
    """What makes ``data`` not an API prompt (None if it is one)."""
    if not isinstance(data, dict) or not data:
        return "expected a non-empty JSON object of nodes"
    for node_id, node in data.items():
        if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
            return f"node {node_id!r} must be an object with a 'class_type'"
        if not isinstance(node.get("inputs", {}), dict):
            return f"node {node_id!r} ({node['class_type']}): 'inputs' must be an object"
        for name, value in node.get("inputs", {}).items():
            is_link = isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)
            if is_link and str(value[0]) not in data:
                return f"node {node_id!r} ({node['class_type']}): input {name!r} links to missing node {value[0]!r}"
    return None


def to_prompt(workflow: Workflow, object_info: dict | None = None) -> dict:
    """The API prompt of a workflow (a copy). A UI workflow is converted with this process's nodes
    (ComfyUI booted) or with a server's ``GET /object_info`` answer ``object_info``.

    Raises:
        RunError: a UI workflow that does not fit the nodes (``workflow_format.WorkflowError``).
    """
    from . import workflow_format

    if workflow.api:
        return json.loads(json.dumps(workflow.data))
    try:
        return workflow_format.ui_to_api(workflow.data, object_info)
    except workflow_format.WorkflowError as error:
        raise RunError(f"{workflow.path}: {error}") from None


def options_of(args) -> Options:
    """The :class:`Options` of the command line."""
    return Options(
        checkpoint=args.checkpoint,
        controlnet=args.controlnet,
        seed=args.seed,
        steps=args.steps,
        max_people=getattr(args, "max_people", None),
    )

"""ComfyUI's two graph formats: the UI workflow (what the browser saves and loads by drag and drop) and
the API prompt (what the executor runs). ComfyUI converts UI -> API only in its front end, so this
module does it for headless runs, and the other way to write the shipped workflow files.

Facts of the UI format (ComfyUI front end 1.x, workflow version 0.4): ``nodes[]`` with ``id``, ``type``,
``inputs[]`` (``name``, ``type``, ``link``), ``outputs[]`` (``name``, ``type``, ``links``) and
``widgets_values`` (the widget inputs in the node's input order, required then optional; an INT with
``control_after_generate`` (and any INT named seed / noise_seed) is followed by its control value, and
an image-upload combo by its upload button's value; widgets added to a node after a file was saved are
missing at the end and take their defaults); ``links[]`` as ``[id, from_node, from_slot,
to_node, to_slot, type]``. Nodes with ``mode`` 2 (muted) or 4 (bypassed) are not run.
"""

from __future__ import annotations

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
UI_ONLY = {"Note", "MarkdownNote"}
UI_SIZES = {"PoseEditor": [560, 640]}
"""Node sizes in written workflows other than the default [300, 180] (the Pose Editor's canvas)."""


class WorkflowError(ValueError):
    """The file is not a usable ComfyUI workflow; the message names the field."""


def _node_class(class_type: str):
    import nodes

    node_class = nodes.NODE_CLASS_MAPPINGS.get(class_type)
    if node_class is None:
        raise WorkflowError(f"node type {class_type!r} is not installed in this ComfyUI")
    return node_class


def widget_layout(class_type: str, object_info: dict | None = None) -> list[tuple[str, int, object]]:
    """``(input name, number of widgets_values it takes, default)`` for each widget input, in the UI's
    order. ``object_info``: a server's ``GET /object_info`` answer to read the inputs from instead of
    this process's ComfyUI."""
    layout = []
    if object_info is None:
        spec = _node_class(class_type).INPUT_TYPES()
    elif class_type in object_info:
        spec = object_info[class_type]["input"]
    else:
        raise WorkflowError(f"node type {class_type!r} is not installed on the server")
    for section in ("required", "optional"):
        for name, entry in spec.get(section, {}).items():
            kind, options = entry[0], (entry[1] if len(entry) > 1 else {})
            # socketless: a custom widget type (e.g. the Pose Editor's POSE_EDITS) that takes no link
            is_widget = not isinstance(kind, str) or kind in WIDGET_TYPES or bool(options.get("socketless"))
            if not is_widget or options.get("forceInput"):
                continue
            count = 1
            if kind == "INT" and (options.get("control_after_generate") or name in ("seed", "noise_seed")):
                count += 1
            if options.get("image_upload"):
                count += 1
            default = options.get("default")
            if default is None and not isinstance(kind, str) and kind:
                default = kind[0]  # a legacy combo: its first option
            layout.append((name, count, default))
    return layout


def _output_names(class_type: str) -> list[tuple[str, str]]:
    node_class = _node_class(class_type)
    types = list(node_class.RETURN_TYPES)
    names = list(getattr(node_class, "RETURN_NAMES", None) or types)
    return list(zip(names, types))


def ui_to_api(workflow: dict, object_info: dict | None = None) -> dict:
    """Convert a UI workflow to an API prompt ``{node_id: {"class_type", "inputs"}}``, with the node
    inputs of this process's ComfyUI, or of a server's ``GET /object_info`` answer ``object_info``.

    Raises:
        WorkflowError: not a workflow (no ``nodes`` / ``links`` lists), a node type that is not
            installed, or widget values that do not fit the node's inputs.
    """
    if (
        not isinstance(workflow, dict)
        or not isinstance(workflow.get("nodes"), list)
        or not isinstance(workflow.get("links"), list)
    ):
        raise WorkflowError("not a ComfyUI workflow: expected a JSON object with 'nodes' and 'links' lists")
    links = {}
    for link in workflow["links"]:
        if not isinstance(link, list) or len(link) < 5:
            raise WorkflowError(
                f"links: bad entry {link!r}, expected [id, from_node, from_slot, to_node, to_slot, type]"
            )
        links[link[0]] = link
    prompt = {}
    for node in workflow["nodes"]:
        class_type = node.get("type")
        if class_type in UI_ONLY or node.get("mode", 0) in (2, 4):
            continue
        values = list(node.get("widgets_values") or [])
        inputs = {}
        position = 0
        for name, count, default in widget_layout(class_type, object_info):
            if position >= len(values):
                # an input added to the node after the file was saved: the front end keeps its default
                if default is None:
                    raise WorkflowError(
                        f"node {node.get('id')} ({class_type}): widgets_values has no value for {name!r}"
                    )
                inputs[name] = default
                continue
            inputs[name] = values[position]
            position += count
        for entry in node.get("inputs") or []:
            link_id = entry.get("link")
            if link_id is None:
                continue
            if link_id not in links:
                raise WorkflowError(
                    f"node {node.get('id')} ({class_type}): input {entry.get('name')!r} uses missing link {link_id}"
                )
            _, from_node, from_slot = links[link_id][:3]
            inputs[entry["name"]] = [str(from_node), from_slot]
        prompt[str(node["id"])] = {"class_type": class_type, "inputs": inputs}
    return prompt


def _depths(prompt: dict) -> dict[str, int]:
    """Each node's graph depth: 0 for a node fed by no link, else 1 + its deepest source's."""
    depth: dict[str, int] = {}

    def node_depth(node_id: str) -> int:
        if node_id not in depth:
            sources = [
                v[0] for v in prompt[node_id]["inputs"].values() if isinstance(v, list) and len(v) == 2
            ]
            depth[node_id] = 1 + max((node_depth(s) for s in sources), default=-1)
        return depth[node_id]

    for node_id in prompt:
        node_depth(node_id)
    return depth


def _ui_links(prompt: dict, number: dict[str, int]) -> tuple[list, dict, dict[str, list]]:
    """The UI file's ``links``, the link ids of each ``(node, output slot)`` and each node's ``inputs``."""
    links, outputs_links = [], {}
    ui_inputs: dict[str, list] = {node_id: [] for node_id in prompt}
    for node_id, node in prompt.items():
        spec = _node_class(node["class_type"]).INPUT_TYPES()
        types = {
            name: entry[0]
            for section in ("required", "optional")
            for name, entry in spec.get(section, {}).items()
        }
        for name, value in node["inputs"].items():
            if not (isinstance(value, list) and len(value) == 2):
                continue
            source, slot = value
            link_type = _output_names(prompt[source]["class_type"])[slot][1]
            link_id = len(links) + 1
            links.append([link_id, number[source], slot, number[node_id], len(ui_inputs[node_id]), link_type])
            outputs_links.setdefault((source, slot), []).append(link_id)
            entry = {"name": name, "type": link_type, "link": link_id}
            if isinstance(types.get(name), str) and types[name] in WIDGET_TYPES:
                entry["widget"] = {"name": name}
            ui_inputs[node_id].append(entry)
    return links, outputs_links, ui_inputs


def _widget_values(class_type: str, inputs: dict) -> list:
    """``widgets_values`` of a node: each widget's value (its default where a link feeds it), and the
    control value after a seed ("fixed") or LoadImage's upload widget."""
    values = []
    for name, count, default in widget_layout(class_type):
        value = inputs.get(name, default)
        values.append(default if isinstance(value, list) else value)  # a linked widget keeps a placeholder
        if count == 2:
            values.append("image" if class_type == "LoadImage" and name == "image" else "fixed")
    return values


def _positions(prompt: dict, depth: dict[str, int], sizes: dict[str, list]) -> dict[str, list[int]]:
    """Columns by depth, each as wide as its widest node; nodes stacked by their heights (px)."""
    widths: dict[int, int] = {}
    for node_id in prompt:
        widths[depth[node_id]] = max(widths.get(depth[node_id], 0), sizes[node_id][0])
    column_x = {c: 40 + sum(widths.get(k, 300) + 40 for k in range(c)) for c in widths}
    rows: dict[int, int] = {}
    positions = {}
    for node_id in prompt:
        column = depth[node_id]
        y = rows.get(column, 40)
        rows[column] = y + sizes[node_id][1] + 50
        positions[node_id] = [column_x[column], y]
    return positions


def api_to_ui(prompt: dict, title: str | None = None) -> dict:
    """Lay an API prompt out as a UI workflow (columns by graph depth), for files people drag into ComfyUI."""
    ids = list(prompt)
    number = {node_id: i + 1 for i, node_id in enumerate(ids)}
    links, outputs_links, ui_inputs = _ui_links(prompt, number)
    sizes = {node_id: UI_SIZES.get(prompt[node_id]["class_type"], [300, 180]) for node_id in ids}
    positions = _positions(prompt, _depths(prompt), sizes)
    ui_nodes = []
    for order, node_id in enumerate(ids):
        class_type = prompt[node_id]["class_type"]
        ui_nodes.append(
            {
                "id": number[node_id],
                "type": class_type,
                "pos": positions[node_id],
                "size": sizes[node_id],
                "flags": {},
                "order": order,
                "mode": 0,
                "inputs": ui_inputs[node_id],
                "outputs": [
                    {
                        "name": name,
                        "type": kind,
                        "links": outputs_links.get((node_id, slot), []),
                        "slot_index": slot,
                    }
                    for slot, (name, kind) in enumerate(_output_names(class_type))
                ],
                "properties": {"Node name for S&R": class_type},
                "widgets_values": _widget_values(class_type, prompt[node_id]["inputs"]),
            }
        )
    return {
        "last_node_id": len(ids),
        "last_link_id": len(links),
        "nodes": ui_nodes,
        "links": links,
        "groups": [],
        "config": {},
        "extra": {"title": title} if title else {},
        "version": 0.4,
    }


NOTE_SIZE = [420, 330]


def add_note(workflow: dict, text: str, title: str = "Read me first") -> dict:
    """Add a ``Note`` node (UI only: never run, skipped by :func:`ui_to_api`) holding ``text`` to a UI
    workflow, above the graph's top-left corner; ``workflow`` is changed in place and returned."""
    node_id = workflow["last_node_id"] + 1
    top = min((n["pos"][1] for n in workflow["nodes"]), default=40)
    left = min((n["pos"][0] for n in workflow["nodes"]), default=40)
    workflow["nodes"].append(
        {
            "id": node_id,
            "type": "Note",
            "title": title,
            "pos": [left - NOTE_SIZE[0] - 40, top],
            "size": NOTE_SIZE,
            "flags": {},
            "order": len(workflow["nodes"]),
            "mode": 0,
            "inputs": [],
            "outputs": [],
            "properties": {},
            "widgets_values": [text],
            "color": "#432",
            "bgcolor": "#653",
        }
    )
    workflow["last_node_id"] = node_id
    return workflow

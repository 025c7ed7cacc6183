"""Every node's ID, inputs and outputs, pinned against tests/node_schema.json.

Saved workflows refer to node IDs and input names, so a change here breaks users' files. A change to
the list must be deliberate and reviewed: regenerate it with
``UPDATE_NODE_SCHEMA=1 .venv/bin/python -m pytest tests/integration/test_node_schema.py`` and commit the diff.
Adding a node, an optional input or a combo option is safe; renaming or removing one is not.
"""

import json
import os
from pathlib import Path

PINNED = Path(__file__).resolve().parents[1] / "node_schema.json"
# Combos whose options are not the pack's to pin: files in ComfyUI's folders, the host's schedulers.
DYNAMIC_OPTIONS = {
    ("PoseLoadJSON", "file"),
    ("KSamplerRePaint", "scheduler"),
    ("LoadADMPixelModel", "ckpt_name"),
    ("CaptionLoadBLIP", "model_name"),
    ("LoadLDMInpaintCheckpoint", "ckpt_name"),
}


def _describe(node_id, node_cls) -> dict:
    types = node_cls.INPUT_TYPES()
    inputs = {}
    for section in ("required", "optional"):
        for name, spec in types.get(section, {}).items():
            kind = spec[0]
            entry = {"section": section, "type": kind if isinstance(kind, str) else "COMBO"}
            if entry["type"] == "COMBO" and (node_id, name) not in DYNAMIC_OPTIONS:
                entry["options"] = (
                    list(kind) if not isinstance(kind, str) else list(spec[1].get("options", []))
                )
            inputs[name] = entry
    return {"inputs": inputs, "outputs": list(node_cls.RETURN_TYPES)}


def _pack_nodes():
    import nodes

    return {
        name: cls
        for name, cls in nodes.NODE_CLASS_MAPPINGS.items()
        if getattr(cls, "RELATIVE_PYTHON_MODULE", "").startswith("custom_nodes.comfyui-repaint-extend")
    }


def test_node_ids_inputs_and_outputs_are_pinned(comfy):
    current = {name: _describe(name, cls) for name, cls in sorted(_pack_nodes().items())}
    assert current, "no node of the pack was found in ComfyUI"
    if os.environ.get("UPDATE_NODE_SCHEMA") == "1":
        PINNED.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    pinned = json.loads(PINNED.read_text())
    for name, spec in pinned.items():
        assert name in current, f"node {name} was removed or renamed: saved workflows using it break"
        for input_name, entry in spec["inputs"].items():
            now = current[name]["inputs"].get(input_name)
            assert now is not None, f"{name}.{input_name} was removed or renamed"
            assert now["type"] == entry["type"], f"{name}.{input_name} changed type"
            missing = set(entry.get("options", [])) - set(now.get("options", []))
            assert not missing, f"{name}.{input_name} lost combo options {missing}"
        assert current[name]["outputs"][: len(spec["outputs"])] == spec["outputs"], f"{name} outputs changed"
    # Everything new must be pinned too, so that the next change is checked against it.
    assert current == pinned, (
        "the node list changed: regenerate tests/node_schema.json (see module docstring)"
    )

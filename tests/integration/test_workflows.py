"""The shipped UI workflows: each loads, every node type exists, its widget values validate in ComfyUI,
and its API-format equivalent runs through the real executor with tiny stand-in models."""

import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "workflows").glob("*.json"))
EXPECTED = {
    "extend_legs",
    "extend_legs_sdxl",
    "ldm_inpaint_big",
    "ldm_inpaint_big_repaint",
    "repaint_inpaint",
    "repaint_pixel_demo",
}


@pytest.fixture(scope="module")
def host(comfy, camera_input, tmp_path_factory):
    """The referenced model files exist (empty: only their names are validated; the LDM inpainting
    checkpoint is a tiny random one in the real layout, read by the workflow's own loader) and so does
    example.png."""
    import folder_paths
    from support import graphs, tiny_models

    models = tmp_path_factory.mktemp("models")
    names = {
        "checkpoints": (graphs.DEFAULT_CHECKPOINT, graphs.SDXL_CHECKPOINT),
        "controlnet": (graphs.DEFAULT_OPENPOSE, graphs.SDXL_OPENPOSE),
    }
    for folder, files in names.items():
        (models / folder).mkdir()
        for name in files:
            (models / folder / name).write_bytes(b"")
        folder_paths.add_model_folder_path(folder, str(models / folder))
    (models / "ldm_inpainting").mkdir()
    tiny_models.save_ldm_inpaint_checkpoint(models / "ldm_inpainting" / graphs.LDM_INPAINT_CHECKPOINT)
    folder_paths.add_model_folder_path("ldm_inpainting", str(models / "ldm_inpainting"))
    camera_input(64, 64, name="example.png")
    return comfy


def test_the_workflows_ship():
    assert {p.stem for p in WORKFLOWS} == EXPECTED


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_workflow_loads_and_validates(host, path):
    import nodes

    from runner import workflow_format

    workflow = json.loads(path.read_text())
    assert workflow["version"] == 0.4 and workflow["nodes"] and workflow["links"]
    missing = {n["type"] for n in workflow["nodes"]} - set(nodes.NODE_CLASS_MAPPINGS)
    assert not missing, f"node types not installed: {missing}"
    prompt = workflow_format.ui_to_api(workflow)
    ok, error, outputs, node_errors = host.validate(prompt)
    assert ok and not node_errors, (error, node_errors)
    assert outputs, "a workflow must have an output node"
    # the UI file is what the API graph lays out: converting back gives the same graph
    assert workflow_format.ui_to_api(workflow_format.api_to_ui(prompt)) == prompt


def test_a_workflow_saved_by_an_older_version_validates(host):
    """extend_legs.json as shipped before Outpaint (Tiled) gained tile_prompt / clip / caption_model and its
    prompts output: the missing widget gets its default and ComfyUI validates the graph."""
    from runner import workflow_format

    workflow = json.loads((ROOT / "tests" / "data" / "extend_legs_before_tile_prompt.json").read_text())
    ok, error, outputs, node_errors = host.validate(workflow_format.ui_to_api(workflow))
    assert ok and not node_errors and outputs, (error, node_errors)


def _with_tiny_models(prompt: dict) -> dict:
    """Swap real loaders for the harness's tiny stand-ins of the checkpoint's family (SD1.5 or SDXL) and
    shrink the work, keeping the graph."""
    from support import graphs

    fast = {
        "steps": 3,
        "jump_length": 2,
        "jump_n_sample": 2,
        "tile_width": 64,
        "tile_height": 64,
        "overlap": 16,
        "feather": 8,
        "margin": 8,
        "multiple": 8,
    }
    families = {
        graphs.FAMILY_OF_CHECKPOINT[node["inputs"]["ckpt_name"]]
        for node in prompt.values()
        if node["class_type"] == "CheckpointLoaderSimple"
    }
    assert len(families) <= 1, families
    family = families.pop() if families else "sd15"
    for node in prompt.values():
        if node["class_type"] == "CheckpointLoaderSimple":
            node.update(
                class_type="TinyCheckpointLoader",
                inputs={"kind": "eps", "size": "tiny", "seed": 0, "family": family},
            )
        elif node["class_type"] == "ControlNetLoader":
            node.update(
                class_type="TinyControlNetLoader", inputs={"size": "tiny", "seed": 3, "family": family}
            )
        elif node["class_type"] in ("RePaintMask", "ImageScale"):
            node["inputs"].update(width=64, height=64)
        for key, value in fast.items():
            if key in node["inputs"] and not isinstance(node["inputs"][key], list):
                node["inputs"][key] = value
    return prompt


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.stem)
def test_workflow_runs_with_tiny_models(host, path):
    from runner import workflow_format

    prompt = _with_tiny_models(workflow_format.ui_to_api(json.loads(path.read_text())))
    result = host.run_graph(prompt)
    saved = [image for ui in result.ui.values() for image in ui.get("images", [])]
    assert saved, "the workflow saved no image"
    for node_id, node in prompt.items():
        if node["class_type"] == "OutpaintComposite":
            padded, final = result.output(node["inputs"]["original"][0]), result.output(node_id)
            mask = result.output(*node["inputs"]["mask"])
            assert torch.equal(final[0][mask[0] == 0], padded[0][mask[0] == 0])


def test_not_a_workflow_is_a_clear_error(comfy):
    from runner import workflow_format

    with pytest.raises(workflow_format.WorkflowError, match="not a ComfyUI workflow"):
        workflow_format.ui_to_api({"prompt": {}})
    with pytest.raises(workflow_format.WorkflowError, match="not installed"):
        workflow_format.ui_to_api({"nodes": [{"id": 1, "type": "NoSuchNode"}], "links": []})


@pytest.mark.parametrize(
    "saved, missing, widgets",
    [("extend_legs_before_mode.json", "mode", 13), ("extend_legs_before_sigmas.json", "sigmas", 14)],
)
def test_a_workflow_saved_before_outpaint_mode_loads_and_runs(host, saved, missing, widgets):
    """extend_legs.json as shipped before Outpaint (Tiled) gained ``mode`` (and before ``sigmas``, with
    RePaint Sampler): it validates, and runs (the missing input takes the default, or is left out) with
    every known pixel kept."""
    from runner import workflow_format

    workflow = json.loads((ROOT / "tests" / "data" / saved).read_text())
    tiled = next(n for n in workflow["nodes"] if n["type"] == "OutpaintTiled")
    assert missing not in {i["name"] for i in tiled.get("inputs", [])}
    assert len(tiled["widgets_values"]) == widgets
    prompt = workflow_format.ui_to_api(workflow)
    ok, error, outputs, node_errors = host.validate(prompt)
    assert ok and not node_errors and outputs, (error, node_errors)
    result = host.run_graph(_with_tiny_models(prompt))
    composite = next(k for k, n in prompt.items() if n["class_type"] == "OutpaintComposite")
    padded, final = result.output(prompt[composite]["inputs"]["original"][0]), result.output(composite)
    mask = result.output(*prompt[composite]["inputs"]["mask"])
    assert torch.equal(final[0][mask[0] == 0], padded[0][mask[0] == 0])


@pytest.mark.parametrize("name", ["extend_legs", "extend_legs_sdxl"])
def test_shipped_leg_workflows_pose_every_person(name):
    """Issue 20: extend_legs ran Pose Detect with max_people 1, so a group photo had one person posed. The
    shipped workflows use the node's largest value, the one the runner's check uses (pose.detect.MAX_PEOPLE)."""
    from support import graphs

    from repaint_extend.pose.detect import MAX_PEOPLE

    nodes = json.loads((ROOT / "workflows" / f"{name}.json").read_text())["nodes"]
    detects = [n for n in nodes if n["type"] == "PoseDetectMediaPipe"]
    assert len(detects) == 1 and detects[0]["widgets_values"][0] == MAX_PEOPLE == graphs.MAX_PEOPLE == 16

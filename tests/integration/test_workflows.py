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
    "extend_legs_demo",
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
    # Note nodes live in the front end only (workflow_format.UI_ONLY)
    missing = (
        {n["type"] for n in workflow["nodes"]} - set(nodes.NODE_CLASS_MAPPINGS) - workflow_format.UI_ONLY
    )
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
        "largest_size": 64,
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
    """extend_legs ran Pose Detect with max_people 1, so a group photo had one person posed. The
    shipped workflows use the node's largest value, the one the runner's check uses (pose.detect.MAX_PEOPLE)."""
    from support import graphs

    from repaint_extend.pose.detect import MAX_PEOPLE

    nodes = json.loads((ROOT / "workflows" / f"{name}.json").read_text())["nodes"]
    detects = [n for n in nodes if n["type"] == "PoseDetectMediaPipe"]
    assert len(detects) == 1 and detects[0]["widgets_values"][0] == MAX_PEOPLE == graphs.MAX_PEOPLE == 16


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_shipped_file_is_what_make_workflows_writes(comfy, name):
    """workflows/*.json are generated (scripts/make_workflows.py, runner/shipped.py), never edited by hand: regenerating gives
    the same bytes."""
    from runner import shipped

    assert shipped.text(shipped.build(name)) == (ROOT / "workflows" / f"{name}.json").read_text()


@pytest.mark.parametrize(
    "name, models",
    [
        ("extend_legs", ["v1-5-pruned-emaonly.safetensors", "control_v11p_sd15_openpose.pth"]),
        ("extend_legs_sdxl", ["sd_xl_base_1.0.safetensors", "thibaud_xl_openpose.safetensors"]),
    ],
)
def test_the_sd_workflows_say_which_models_go_where_and_the_demo_to_try(name, models):
    """A Note node (never run) names the files that the workflow's loaders ask for, their folders and the
    demo workflow; the files named are the loaders' own values."""
    from runner import workflow_format

    workflow = json.loads((ROOT / "workflows" / f"{name}.json").read_text())
    (note,) = [n for n in workflow["nodes"] if n["type"] == "Note"]
    text = note["widgets_values"][0]
    loaded = {
        v
        for n in workflow_format.ui_to_api(workflow).values()
        for v in n["inputs"].values()
        if isinstance(v, str)
    }
    assert set(models) <= loaded
    assert all(m in text for m in models)
    assert "ComfyUI/models/checkpoints/" in text and "ComfyUI/models/controlnet/" in text
    assert "extend_legs_demo" in text and (ROOT / "workflows" / "extend_legs_demo.json").exists()


def _signatures(prompt: dict, skip=("filename_prefix",)) -> list:
    """Each node as (class_type, its widget values, its sources' signatures): equal lists = the same graph
    whatever the node ids."""
    memo = {}

    def sig(node_id):
        if node_id not in memo:
            node = prompt[node_id]
            items = []
            for key, value in sorted(node["inputs"].items()):
                if key in skip:
                    continue
                items.append((key, ("link", sig(value[0]), value[1]) if isinstance(value, list) else value))
            memo[node_id] = (node["class_type"], tuple(items))
        return memo[node_id]

    return sorted(map(repr, map(sig, prompt)))


def test_the_demo_workflow_is_the_runners_demo_mode(comfy):
    """extend_legs_demo.json is extend_legs.json as the runner rewrites it without a checkpoint (runner/demo.py
    use_demo_model: the embedded model, its tile, sampling and padding), plus the scaling of the photo to
    the demo's working size that the runner does before the graph."""
    from runner import demo as runner_demo
    from runner import workflow_format

    sd = workflow_format.ui_to_api(json.loads((ROOT / "workflows" / "extend_legs.json").read_text()))
    ckpt_name, tile = runner_demo.DEMO_MODELS[0]
    demo_mode = runner_demo.use_demo_model(sd, ckpt_name, tile)
    expected = workflow_format.ui_to_api(workflow_format.api_to_ui(demo_mode))  # widget defaults filled
    demo = workflow_format.ui_to_api(json.loads((ROOT / "workflows" / "extend_legs_demo.json").read_text()))
    (scale,) = [k for k, n in demo.items() if n["class_type"] == "ImageScaleToMaxDimension"]
    assert demo[scale]["inputs"]["largest_size"] == runner_demo.DEMO_MAX_SIDE
    assert demo[scale]["inputs"]["upscale_method"] == "area"
    source = demo.pop(scale)["inputs"]["image"]
    for node in demo.values():
        for key, value in node["inputs"].items():
            if value == [scale, 0]:
                node["inputs"][key] = source
    assert _signatures(demo) == _signatures(expected)
    assert not {"CheckpointLoaderSimple", "ControlNetLoader", "CLIPTextEncode"} & {
        n["class_type"] for n in demo.values()
    }

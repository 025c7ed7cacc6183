"""scripts/run_workflow.py: the headless runner, its report, its demo-model fallback and its errors."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "scripts" / "run_workflow.py"
REPORT_FIELDS = {
    "output_image",
    "input_size",
    "output_size",
    "tiles",
    "nfe",
    "seconds",
    "known_max_abs_diff",
    "models",
}


def _run(*args, timeout=600):
    return subprocess.run(
        [sys.executable, str(RUNNER), *args], capture_output=True, text=True, timeout=timeout
    )


def test_pixel_demo_runs_headless_and_reports(tmp_path):
    done = _run("repaint_pixel_demo", "--out", str(tmp_path), "--steps", "6")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert REPORT_FIELDS <= set(report)
    assert report["input_size"] == [512, 512] and report["output_size"] == [64, 64]
    assert report["known_max_abs_diff"] == 0
    assert report["nfe"] == 6 + 4 * 5 * 1  # steps 6, jump_length 5, jump_n_sample 5: one jump point
    assert Path(report["output_image"]).is_file()


def test_not_a_workflow_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"prompt": {}}))
    done = _run(str(bad), "--out", str(tmp_path))
    assert done.returncode != 0 and "not a ComfyUI workflow" in done.stderr
    done = _run("no_such_workflow", "--out", str(tmp_path))
    assert done.returncode != 0 and "extend_legs" in done.stderr  # lists the shipped ones


def test_demo_fallback_rewrites_extend_legs_into_a_valid_graph(comfy):
    sys.path.insert(0, str(ROOT / "scripts"))
    import run_workflow
    import workflow_format

    prompt = workflow_format.ui_to_api(json.loads((ROOT / "workflows" / "extend_legs.json").read_text()))
    demo = run_workflow.use_demo_model(prompt, "[embedded] digits 16x16", 16)
    kinds = {node["class_type"] for node in demo.values()}
    assert "LoadADMPixelModel" in kinds and not kinds & {
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "ControlNetLoader",
    }
    tiled = next(n for n in demo.values() if n["class_type"] == "OutpaintTiled")
    assert tiled["inputs"]["tile_width"] == 16 and "control_net" not in tiled["inputs"]
    for node in demo.values():
        if node["class_type"] == "LoadImage":
            node["inputs"]["image"] = "example.png"
    import folder_paths
    from PIL import Image

    Image.new("RGB", (64, 64)).save(Path(folder_paths.get_input_directory()) / "example.png")
    ok, error, _, node_errors = comfy.validate(demo)
    assert ok and not node_errors, (error, node_errors)
    assert prompt != demo and "CheckpointLoaderSimple" in {
        n["class_type"] for n in prompt.values()
    }  # input kept


def test_the_runner_looks_for_the_models_the_workflow_names(comfy):
    sys.path.insert(0, str(ROOT / "scripts"))
    import graphs
    import run_workflow
    import workflow_format

    for name, checkpoint, controlnet in (
        ("extend_legs", graphs.DEFAULT_CHECKPOINT, graphs.DEFAULT_OPENPOSE),
        ("extend_legs_sdxl", graphs.SDXL_CHECKPOINT, graphs.SDXL_OPENPOSE),
    ):
        prompt = workflow_format.ui_to_api(json.loads((ROOT / "workflows" / f"{name}.json").read_text()))
        assert run_workflow._widget(prompt, "CheckpointLoaderSimple", "ckpt_name", "x") == checkpoint
        assert run_workflow._widget(prompt, "ControlNetLoader", "control_net_name", "x") == controlnet
    assert run_workflow._widget({}, "ControlNetLoader", "control_net_name", "x") == "x"

"""scripts/run_workflow.py: photo intake, workflow checks, report, clean-up; one end-to-end run.

Everything runs in-process (the runner's functions, ComfyUI booted once by the ``comfy`` fixture) except
``test_extend_legs_end_to_end_on_a_rotated_odd_sized_jpeg``, the one subprocess run of the command.
Photos are built here from scikit-image's camera.png (CC0).
"""

import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
import skimage
from PIL import Image

from runner import cli, demo, intake, local, prompts
from runner.workflow import load_workflow

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "scripts" / "run_workflow.py"

pytestmark = pytest.mark.slow

REPORT_FIELDS = {
    "output_image",
    "input_size",
    "padding",
    "output_size",
    "tiles",
    "nfe",
    "seconds",
    "known_max_abs_diff",
    "models",
}


def _camera(width=None, height=None) -> Image.Image:
    """camera.png (a man cut off at the thighs) as RGB, resized to ``width`` x ``height``."""
    image = Image.fromarray(np.repeat(skimage.data.camera()[:, :, None], 3, axis=2))
    return image if width is None else image.resize((width, height), Image.LANCZOS)


def _rotated_jpeg(path, upright: Image.Image, quality=92) -> Path:
    """A phone-style JPEG: the pixels stored sideways with EXIF Orientation 6 (rotate 90° clockwise to
    display)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.rotate(90, expand=True).save(path, quality=quality, exif=exif.tobytes())
    return Path(path)


def _temp_folders(root: Path) -> list:
    return sorted(p.name for p in root.glob(f"{prompts.TEMP_PREFIX}*"))


@pytest.fixture
def no_boot(monkeypatch, tmp_path):
    """The runner's ComfyUI start fails the test; temporary folders go to ``tmp_path / "tmp"``."""
    monkeypatch.setattr(local, "boot", lambda *a: pytest.fail("ComfyUI was started"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()


def _error_of(argv, status: int | None = None) -> tuple[str, float]:
    """The one-line error of a run that fails before ComfyUI starts (a photo: exit status 1; the workflow
    or the models: 3) and the seconds it took."""
    started = time.perf_counter()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code, message = cli.main(argv), ""
        except SystemExit as stop:
            code, message = (1, stop.code) if isinstance(stop.code, str) else (stop.code, "")
    message = (message or err.getvalue()).strip()
    assert code in ((1, 3) if status is None else (status,)), (code, message)
    return message, time.perf_counter() - started


# --- the one end-to-end run ---------------------------------------------------------------------------


def test_extend_legs_end_to_end_on_a_rotated_odd_sized_jpeg(tmp_path):
    """The README's main command on a sideways phone JPEG of an odd size: the person comes out upright,
    nothing is cropped, and every pixel of the decoded file is at (x + left, y + top), bit-exact."""
    upright = _camera(127, 129)
    photo = _rotated_jpeg(tmp_path / "phone.jpg", upright)
    assert Image.open(photo).size == (129, 127)  # stored sideways
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            str(RUNNER),
            "extend_legs",
            "--image",
            str(photo),
            "--out",
            str(out),
            "--steps",
            "3",  # 3 Power Scheduler levels, 2 corrector steps: 7 model calls a window
        ],
        capture_output=True,
        text=True,
        timeout=1800,  # a guard: about 30 s on a quiet 2-core machine
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "torchaudio" not in done.stderr  # the boot's noise is gone
    report = json.loads((out / "report.json").read_text())
    assert REPORT_FIELDS <= set(report)
    decoded = intake.decode(photo).rgb
    assert report["input_size"] == [127, 129] == [decoded.shape[1], decoded.shape[0]]
    assert np.abs(decoded.astype(int) - np.asarray(upright, dtype=int)).mean() < 3  # upright, not sideways
    left, top, right, bottom = report["padding"]
    produced = np.asarray(Image.open(report["output_image"]).convert("RGB"))
    assert (
        report["output_size"]
        == [127 + left + right, 129 + top + bottom]
        == [produced.shape[1], produced.shape[0]]
    )
    assert bottom > 0 and produced.shape[0] % 8 == 0 and produced.shape[1] % 8 == 0
    np.testing.assert_array_equal(produced[top : top + 129, left : left + 127], decoded)
    assert report["known_max_abs_diff"] == 0 and report["tiles"] > 0


# --- intake: the decode, against ComfyUI's own LoadImage -----------------------------------------------


def _mode_files(folder: Path) -> dict:
    """The same photo in each mode the intake handles, saved as a user's file would be."""
    rgb = _camera(96, 80)
    grey = rgb.convert("L")
    alpha = Image.fromarray(np.tile(np.linspace(0, 255, 96).astype(np.uint8), (80, 1)))
    rgba = rgb.copy()
    rgba.putalpha(alpha)
    la = grey.copy()
    la.putalpha(alpha)
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    transparent = palette.copy()
    transparent.info["transparency"] = 0
    sixteen = Image.fromarray(np.asarray(grey).astype(np.uint16) * 257)
    files = {
        "rgb.png": rgb,
        "grey.png": grey,
        "la.png": la,
        "rgba.png": rgba,
        "palette.png": palette,
        "palette_transparency.png": transparent,
        "cmyk.jpg": rgb.convert("CMYK"),
        "int32.tif": Image.fromarray(np.asarray(grey).astype(np.int32) * 300),
        "sixteen.png": sixteen,
    }
    for name, image in files.items():
        image.save(folder / name)
    _rotated_jpeg(folder / "rotated.jpg", rgb)
    return {name: folder / name for name in [*files, "rotated.jpg"]}


def test_intake_decodes_every_mode_as_loadimage_does(comfy, tmp_path):
    import folder_paths
    import nodes

    load = nodes.LoadImage()
    input_dir = Path(folder_paths.get_input_directory())
    files = _mode_files(input_dir)
    modes = {name: Image.open(path).mode for name, path in files.items()}
    assert {"RGB", "L", "LA", "RGBA", "P", "CMYK", "I", "I;16"} <= set(modes.values())
    for name, path in files.items():
        photo = intake.decode(path)
        image, mask = load.load_image(name)
        reference = photo.rgb.astype(np.float32) / 255.0
        if modes[name] == "I;16":  # LoadImage scales mode I only: it clips I;16 at 255 (white)
            assert image.numpy().mean() > 0.95 and abs(reference.mean() - image.numpy().mean()) > 0.3
            as_int = input_dir / "sixteen_as_I.tif"
            Image.open(path).convert("I").save(as_int)
            image, mask = load.load_image(as_int.name)  # ... and scales this one as the intake does
        np.testing.assert_array_equal(image[0].numpy(), reference, err_msg=name)
        if photo.alpha is None:
            assert not mask.any(), name
        else:
            np.testing.assert_array_equal(mask[0].numpy(), 1.0 - photo.alpha.astype(np.float32) / 255.0, name)
        staged = input_dir / f"staged_{Path(name).stem}.png"  # what the runner hands to LoadImage
        photo.to_pil().save(staged)
        again, again_mask = load.load_image(staged.name)
        np.testing.assert_array_equal(again[0].numpy(), reference, err_msg=name)
        assert again_mask.shape == mask.shape and bool((again_mask == mask).all()), name
    rotated = intake.decode(files["rotated.jpg"])
    assert rotated.orientation == 6 and rotated.size == (96, 80)
    assert np.abs(rotated.rgb.astype(int) - np.asarray(_camera(96, 80), dtype=int)).mean() < 3
    sixteen = intake.decode(files["sixteen.png"]).rgb
    assert abs(int(sixteen.mean()) - int(np.asarray(_camera(96, 80).convert("L")).mean())) <= 2  # not white


# --- bad photos and workflows: one line, before ComfyUI -------------------------------------------------


def test_bad_photos_get_one_line_before_comfyui_starts(no_boot, tmp_path):
    good = tmp_path / "good.jpg"
    _camera(200, 200).save(good, quality=90)
    data = good.read_bytes()
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (1, 1)).save(tiny)
    text = tmp_path / "notes.png"
    text.write_text("not a picture\n")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[: len(data) // 2])
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(data[:2] + b"\x00" * 600 + data[602:])
    nobody = tmp_path / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(nobody)
    expected = {
        tiny: "1x1 px, too small",
        text: "not an image file",
        truncated: "truncated or corrupt",
        corrupt: "not an image file",
        nobody: "No person detected in",
    }
    for path, cause in expected.items():
        message, seconds = _error_of(["extend_legs", "--image", str(path), "--out", str(tmp_path / "out")])
        assert cause in message and str(path) in message, message
        assert "\n" not in message and "Traceback" not in message
        assert seconds < 5, (path.name, seconds)
    assert _temp_folders(tmp_path / "tmp") == []


def test_workflow_files_are_checked_before_comfyui_starts(no_boot, tmp_path):
    cases = {
        "not_a_workflow.json": ({"prompt": {}}, "not a ComfyUI workflow"),
        "bad_node.json": ({"nodes": [{"type": "LoadImage"}], "links": []}, "nodes[0] must be an object"),
        "bad_link.json": (
            {"1": {"class_type": "SaveImage", "inputs": {"images": ["7", 0]}}},
            "links to missing node '7'",
        ),
        "deep.json": (json.loads("[" * 200 + "]" * 200), "nested deeper than"),
    }
    for name, (data, cause) in cases.items():
        (tmp_path / name).write_text(json.dumps(data))
        message, _ = _error_of([str(tmp_path / name)])
        assert cause in message and "\n" not in message, message
    (tmp_path / "deeper.json").write_text("[" * 100_000 + "]" * 100_000)  # beyond Python's recursion limit
    message, _ = _error_of([str(tmp_path / "deeper.json")])
    assert "nested too deeply" in message
    (tmp_path / "broken.json").write_text("{")
    assert "is not JSON" in _error_of([str(tmp_path / "broken.json")])[0]
    message, _ = _error_of(["no_such_workflow"])
    assert "extend_legs" in message  # lists the shipped ones
    assert not load_workflow("extend_legs").api


def test_an_api_prompt_runs_and_reports(comfy, graphs, tmp_path, monkeypatch):
    """An API-format file is a workflow: run in-process (the booted ComfyUI) on a 16-bit photo."""
    import folder_paths

    prompt, _ = graphs.repaint_pixel_demo(
        image="any.png", size=16, ckpt_name="[embedded] digits 16x16", steps=4, jump_length=2, jump_n_sample=2
    )
    path = tmp_path / "demo_api.json"
    path.write_text(json.dumps(prompt))
    assert load_workflow(path).api
    photo = tmp_path / "sixteen.png"
    Image.fromarray(np.asarray(_camera(96, 80).convert("L")).astype(np.uint16) * 257).save(photo)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    output_dir = folder_paths.get_output_directory()
    assert cli.main([str(path), "--image", str(photo), "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert REPORT_FIELDS <= set(report)
    assert (
        report["input_size"] == [96, 80] and report["output_size"] == [16, 16] and report["padding"] is None
    )
    assert report["known_max_abs_diff"] == 0
    assert report["nfe"] == 4 + 1 * 2 * 1  # steps 4, jump_length 2, jump_n_sample 2: one jump point
    assert Path(report["output_image"]).parent == tmp_path / "out"
    assert folder_paths.get_output_directory() == output_dir  # restored after the run
    assert _temp_folders(tmp_path) == [] and _temp_folders(Path(folder_paths.get_input_directory())) == []


def test_failed_and_interrupted_runs_leave_no_temporary_folder(comfy, tmp_path, monkeypatch):
    import folder_paths

    photo = tmp_path / "photo.png"
    _camera(96, 96).save(photo)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    argv = ["repaint_pixel_demo", "--image", str(photo), "--out", str(tmp_path / "out")]

    def fails(prompt):
        raise comfy.GraphError(
            "graph execution failed: boom",
            [{"node_id": "7", "node_type": "KSamplerRePaint", "exception_message": "boom\n" + "x" * 5000}],
        )

    monkeypatch.setattr(comfy, "run_graph", fails)
    message, _ = _error_of(argv)
    assert "node 7 (KSamplerRePaint): boom" in message and "\n" not in message and len(message) < 500
    assert _temp_folders(tmp_path) == []

    def interrupted(prompt):
        raise KeyboardInterrupt

    monkeypatch.setattr(comfy, "run_graph", interrupted)
    assert cli.main(argv) == 130
    assert _temp_folders(tmp_path) == [] and _temp_folders(Path(folder_paths.get_input_directory())) == []


def test_demo_fallback_rewrites_extend_legs_into_a_valid_graph(comfy):
    from runner import workflow_format

    prompt = workflow_format.ui_to_api(json.loads((ROOT / "workflows" / "extend_legs.json").read_text()))
    rewired = demo.use_demo_model(prompt, "[embedded] digits 16x16", 16)
    kinds = {node["class_type"] for node in rewired.values()}
    assert "LoadADMPixelModel" in kinds and not kinds & {
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "ControlNetLoader",
    }
    tiled = next(n for n in rewired.values() if n["class_type"] == "OutpaintTiled")
    assert tiled["inputs"]["tile_width"] == 16 and "control_net" not in tiled["inputs"]
    # the shipped workflow samples with Langevin Inpaint Sampler on Power Scheduler (RePaint)'s sigmas; the
    # demo budget is about 20 model calls a window: 7 levels + 2 corrector steps at 6 of them = 19
    (langevin,) = [n["inputs"] for n in rewired.values() if n["class_type"] == "LangevinInpaintSampler"]
    (power,) = [n["inputs"] for n in rewired.values() if n["class_type"] == "RePaintPowerScheduler"]
    assert tiled["inputs"]["sigmas"][0] in {
        k for k, n in rewired.items() if n["class_type"] == "RePaintPowerScheduler"
    }
    assert power["steps"] + langevin["corrector_steps"] * (power["steps"] - 1) == 19
    for node in rewired.values():
        if node["class_type"] == "LoadImage":
            node["inputs"]["image"] = "example.png"
    import folder_paths

    Image.new("RGB", (64, 64)).save(Path(folder_paths.get_input_directory()) / "example.png")
    ok, error, _, node_errors = comfy.validate(rewired)
    assert ok and not node_errors, (error, node_errors)
    assert prompt != rewired and "CheckpointLoaderSimple" in {
        n["class_type"] for n in prompt.values()
    }  # input kept


def test_the_runner_looks_for_the_models_the_workflow_names(comfy):
    from support import graphs

    from runner import workflow_format

    for name, checkpoint, controlnet in (
        ("extend_legs", graphs.DEFAULT_CHECKPOINT, graphs.DEFAULT_OPENPOSE),
        ("extend_legs_sdxl", graphs.SDXL_CHECKPOINT, graphs.SDXL_OPENPOSE),
    ):
        prompt = workflow_format.ui_to_api(json.loads((ROOT / "workflows" / f"{name}.json").read_text()))
        assert prompts._widget(prompt, "CheckpointLoaderSimple", "ckpt_name", "x") == checkpoint
        assert prompts._widget(prompt, "ControlNetLoader", "control_net_name", "x") == controlnet
    assert prompts._widget({}, "ControlNetLoader", "control_net_name", "x") == "x"

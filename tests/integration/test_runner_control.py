"""The runner says what it does and stops when asked: options checked before anything starts, seeds,
exit codes, Ctrl-C and SIGTERM during sampling, people in the report, one-line validation errors."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import skimage
from PIL import Image

from runner import cli, local, report

pytestmark = pytest.mark.slow

GOOD = {"a_man.png": (128, 0, 384, 256), "b_man.png": (160, 0, 416, 320)}
"""camera.png crops whose completed legs fit a 128 x 128 canvas (4 demo windows each)."""


def _photos(folder: Path) -> list[Path]:
    camera = Image.open(Path(skimage.data.__file__).parent / "camera.png").convert("RGB")
    folder.mkdir(parents=True, exist_ok=True)
    for name, box in GOOD.items():
        camera.crop(box).resize((96, 96)).save(folder / name)
    return [folder / name for name in GOOD]


def _status(argv) -> int:
    try:
        return cli.main([str(a) for a in argv])
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1


@pytest.fixture
def no_boot(monkeypatch):
    monkeypatch.setattr(local, "boot", lambda *a: pytest.fail("ComfyUI was started"))


@pytest.mark.parametrize(
    "option, value",
    [
        ("--seed", str(2**64)),
        ("--seed", "-2"),
        ("--steps", "0"),
        ("--max-people", "0"),
        ("--per-server", "0"),
    ],
)
def test_options_out_of_range_are_refused_before_anything_starts(option, value, no_boot, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["extend_legs", option, value, "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert option in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_help_is_written_for_users_and_lists_every_exit_code(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert ":func:" not in text and "``" not in text
    for option in ("--out", "--steps", "--seed", "--max-people", "--keep-on-server"):
        help_line = text.split(option, 1)[1].split("\n  --", 1)[0]
        assert len(help_line.split()) > 3, option  # the option has a help text
    for code, what in cli.EXIT_CODES.items():
        assert f"{code:>3}  {what}" in text


def test_seed_minus_one_is_random_printed_and_reported(comfy, tmp_path, capsys):
    photo = _photos(tmp_path / "in")[0]
    out = tmp_path / "out"
    args = ["repaint_pixel_demo", "--image", photo, "--out", out, "--seed", "-1", "--steps", "2"]
    assert _status(args) == 0
    printed = capsys.readouterr().out
    seed = int(printed.split("seed: ", 1)[1].split()[0])
    reported = json.loads((out / "report.json").read_text())["seed"]
    from runner.prompts import photo_seed

    assert reported == photo_seed(seed, photo.name) and 0 <= seed < 2**64


def test_a_failed_precheck_leaves_no_output_folder(no_boot, tmp_path):
    rocket = tmp_path / "rocket.png"
    Image.fromarray(skimage.data.rocket()).save(rocket)
    out = tmp_path / "out"
    assert _status(["extend_legs", "--image", rocket, "--out", out]) == 1
    assert not out.exists()


def test_max_people_reaches_pose_detect_and_the_person_check(comfy, monkeypatch):
    from runner import intake, prompts
    from runner.workflow import Options, load_workflow

    workflow = load_workflow("extend_legs")
    prompt, _ = prompts.local_template(workflow, Options(max_people=5))
    (detect,) = [n for n in prompt.values() if n["class_type"] == "PoseDetectMediaPipe"]
    assert detect["inputs"]["max_people"] == 5
    seen = []
    monkeypatch.setattr(intake, "has_person", lambda photo, n: seen.append(n) or True)
    local.check_people(local.read_photo(None), workflow, 7)
    local.check_people(local.read_photo(None), workflow)
    assert seen == [7, workflow.max_people()]


def test_report_people_and_legs_per_person():
    person = {"pose_keypoints_2d": [1.0] * 54, "inferred_keypoints": []}
    completed = dict(person, inferred_keypoints=[10, 13, 18])
    no_legs = {"pose_keypoints_2d": [1.0] * 27 + [0.0] * 27}
    assert report.people_of([{"people": [person, completed, no_legs]}]) == [
        "detected",
        "completed",
        "missing",
    ]
    assert report.people_of([{"people": []}]) == []


def test_a_validation_error_is_one_readable_line():
    from runner.client import rejection_line

    answer = {
        "error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation"},
        "node_errors": {
            "12": {
                "class_type": "OutpaintTiled",
                "errors": [
                    {"message": "Value smaller than min", "details": "steps: 0 < 1", "extra_info": {"x": 1}}
                ],
            }
        },
    }
    line = rejection_line(answer)
    assert (
        line
        == "Prompt outputs failed validation: node 12 (OutpaintTiled): Value smaller than min: steps: 0 < 1"
    )


def _signal_when_sampling(signum) -> threading.Event:
    """Send ``signum`` to this process once a graph runs and ComfyUI's progress bar has moved (sampling
    has begun); the event is set when it was sent."""
    from runner import host, stop

    sent = threading.Event()

    def send():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if stop._state["in_graph"] and host._state["progress"]:
                os.kill(os.getpid(), signum)
                sent.set()
                return
            time.sleep(0.02)

    threading.Thread(target=send, daemon=True).start()
    return sent


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_sampling_stops_the_batch_and_a_rerun_redoes_the_photo(comfy, tmp_path, signum, code):
    photos = _photos(tmp_path / "in")
    out = tmp_path / "out"
    argv = ["extend_legs", "--image", *photos, "--out", out, "--steps", "3"]
    sent = _signal_when_sampling(signum)
    started = time.monotonic()
    assert _status(argv) == code and sent.is_set()
    assert time.monotonic() - started < 120
    rows = {Path(r["input"]).name: r for r in json.loads((out / "summary.json").read_text())["photos"]}
    assert [rows[n]["status"] for n in GOOD] == ["interrupted", "pending"]
    assert not [p for p in out.rglob("*.png")]  # no partial outputs kept
    if signum != signal.SIGINT:
        return
    assert _status(argv) == 0  # a re-run redoes both
    rows = json.loads((out / "summary.json").read_text())["photos"]
    assert [r["status"] for r in rows] == ["done", "done"]
    for row in rows:
        names = sorted(p.name for p in Path(row["output"]).parent.glob("*.png"))
        assert names == [
            "extend_legs_00001_.png",
            "extend_legs_mask_00001_.png",
            "extend_legs_pose_00001_.png",
        ]
        produced = np.asarray(Image.open(row["output"]))
        assert produced.shape[:2] != (96, 96)

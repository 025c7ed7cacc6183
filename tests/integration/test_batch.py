"""scripts/run_workflow.py on many photos: in-process batches, resume, and ComfyUI servers on loopback
(a graph as the UI sends it, dispatch, a server killed mid-prompt, a server without the pack).

The runner runs in this process (``cli.main``, on the ComfyUI of the ``comfy`` fixture) except
where a server must be killed while it works; tests/integration/test_run_workflow.py holds the one subprocess run of
the command."""

import csv
import functools
import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests
import support
from PIL import Image

from runner import cli, prompts

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "scripts" / "run_workflow.py"

pytestmark = pytest.mark.slow

STEPS = "3"  # demo mode: 3 Power Scheduler levels with 2 corrector steps, 7 model calls a tile
GOOD = {  # camera.png crops whose completed legs fit a 128 x 128 canvas: 4 demo tiles each
    "a_man.png": (128, 0, 384, 256),
    "b_man.png": (160, 0, 416, 320),
}


def _main(*args) -> int:
    """``cli.main(args)``: its exit status, a ``SystemExit``'s code included."""
    try:
        return cli.main([str(a) for a in args])
    except SystemExit as stop:
        return stop.code


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _good_photos(folder: Path) -> list[Path]:
    import skimage

    camera = Image.open(Path(skimage.data.__file__).parent / "camera.png").convert("RGB")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, box in GOOD.items():
        camera.crop(box).resize((96, 96)).save(folder / name)
        paths.append(folder / name)
    return paths


@pytest.fixture(scope="module")
def batch(comfy, tmp_path_factory):
    """One in-process batch of 4 photos: 2 good, 1 corrupt, 1 without a person (scikit-image's rocket);
    ``(photos, out, exit status)``."""
    import skimage

    photos = tmp_path_factory.mktemp("photos")
    _good_photos(photos)
    Image.fromarray(skimage.data.rocket()).resize((128, 96)).save(photos / "c_rocket.png")
    (photos / "d_corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not an image" * 8)
    out = tmp_path_factory.mktemp("batch")
    status = _main("extend_legs", "--image", photos, "--out", out, "--steps", STEPS)
    return photos, out, status


def test_a_batch_records_failures_and_resumes(batch):
    photos, out, status = batch
    assert status == 1
    summary = json.loads((out / "summary.json").read_text())
    rows = {Path(row["input"]).name: row for row in summary["photos"]}
    assert summary["counts"] == {"done": 2, "skipped": 0, "failed": 2, "interrupted": 0, "pending": 0}
    for name in GOOD:
        row = rows[name]
        assert row["status"] == "done" and row["error"] == ""
        report = json.loads((out / Path(name).stem / "report.json").read_text())
        assert report["output_image"] == row["output"] and Path(row["output"]).parent == out / Path(name).stem
        assert report["known_max_abs_diff"] == 0 and report["seed"] == row["seed"]
    assert rows["c_rocket.png"]["error"] == f"No person detected in {photos / 'c_rocket.png'}"
    assert str(photos / "d_corrupt.png") in rows["d_corrupt.png"]["error"]
    assert "not an image file" in rows["d_corrupt.png"]["error"]
    assert all("\n" not in row["error"] for row in rows.values())
    with open(out / "summary.csv") as handle:
        assert [r["status"] for r in csv.DictReader(handle)] == ["done", "done", "failed", "failed"]
    # seeds: the workflow's seed plus the CRC-32 of the file name
    workflow_seed = next(
        n["widgets_values"][0]
        for n in json.loads((ROOT / "workflows" / "extend_legs.json").read_text())["nodes"]
        if n["type"] == "OutpaintTiled"
    )
    assert rows["a_man.png"]["seed"] == prompts.photo_seed(workflow_seed, "a_man.png")

    mtimes = {name: Path(rows[name]["output"]).stat().st_mtime_ns for name in GOOD}
    assert _main("extend_legs", "--image", photos, "--out", out, "--steps", STEPS) == 1
    counts = json.loads((out / "summary.json").read_text())["counts"]
    assert counts == {"done": 0, "skipped": 2, "failed": 2, "interrupted": 0, "pending": 0}
    assert {name: Path(rows[name]["output"]).stat().st_mtime_ns for name in GOOD} == mtimes


def test_inputs_are_files_folders_and_globs(tmp_path):
    from runner import batch as batch_runner

    a, b = _good_photos(tmp_path / "x")
    (tmp_path / "x" / "notes.txt").write_text("not a photo")
    assert batch_runner.expand_inputs([str(tmp_path / "x")]) == [a, b]
    assert batch_runner.expand_inputs([str(b), str(tmp_path / "x" / "*.png")]) == [b, a]
    with pytest.raises(ValueError, match="no file matches"):
        batch_runner.expand_inputs([str(tmp_path / "missing*.jpg")])


# --- servers -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two ComfyUI servers (``main.py --cpu``) on loopback with the pack, started in parallel."""
    from runner import host as comfy_host

    dirs = [tmp_path_factory.mktemp(f"server{i}") for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        started = list(
            pool.map(functools.partial(comfy_host.start_server, extra_nodes=support.CUSTOM_NODES), dirs)
        )
    yield started
    for proc, _, log in started:
        comfy_host.stop_server(proc, log)


def test_repaint_graph_runs_on_a_loopback_server(servers, graphs, comfy):
    """A RePaint graph through a real ComfyUI server (``main.py --cpu``), as the UI would send it."""
    _, base, log = servers[1]
    work_dir = Path(log.name).parent
    info = comfy.request_json(f"{base}/object_info/KSamplerRePaint")["KSamplerRePaint"]
    assert "jump_length" in info["input"]["required"]
    prompt, ids = graphs.repaint_inpaint(
        kind="flow", steps=6, jump_length=2, jump_n_sample=2, save_prefix="server"
    )
    prompt_id = comfy.request_json(f"{base}/prompt", {"prompt": prompt})["prompt_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        history = comfy.request_json(f"{base}/history/{prompt_id}")
        if prompt_id in history and history[prompt_id]["status"].get("completed") is not None:
            break
        time.sleep(0.5)
    entry = history[prompt_id]
    assert entry["status"]["status_str"] == "success", entry["status"]
    images = entry["outputs"][ids["output"]]["images"]
    assert len(images) == 1 and (work_dir / "output" / images[0]["filename"]).is_file()


def test_a_killed_server_loses_no_photo(servers, batch, tmp_path):
    """4 photos on 2 servers; server A is killed while its first prompt runs: all 4 finish on B, with
    the in-process run's pixels (the same seeds: the same file names, in two folders)."""
    (proc_a, url_a, _), (_, url_b, _) = servers
    _, reference, _ = batch
    photos = _good_photos(tmp_path / "one") + _good_photos(tmp_path / "two")
    out = tmp_path / "out"
    command = [sys.executable, str(RUNNER), "extend_legs", "--out", str(out), "--steps", STEPS]
    command += ["--server", url_a, "--server", url_b, "--image", *map(str, photos)]
    runner = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and runner.poll() is None:
        if requests.get(f"{url_a}/queue", timeout=5).json()["queue_running"]:
            proc_a.kill()
            proc_a.wait()
            break
        time.sleep(0.1)
    assert proc_a.poll() is not None, "server A never ran a prompt"
    log = runner.communicate(timeout=600)[0]
    assert runner.returncode == 0, log[-3000:]
    assert f"server {url_a}" in log  # said that A went away
    rows = json.loads((out / "summary.json").read_text())["photos"]
    assert [row["input"] for row in rows] == [str(p) for p in photos]  # each photo once
    assert all(row["status"] == "done" and row["server"] == url_b for row in rows)
    for row in rows:
        name = Path(row["input"]).stem
        expected = _pixels(json.loads((reference / name / "report.json").read_text())["output_image"])
        assert np.array_equal(_pixels(row["output"]), expected), row
        report = json.loads((Path(row["output"]).parent / "report.json").read_text())
        assert report["known_max_abs_diff"] == 0 and report["padding"] == [32, 0, 0, 32]


def test_a_server_without_the_pack_gets_a_clear_error(servers, tmp_path, capsys):
    """A stand-in ComfyUI without the pack: a loopback server answering a real server's /object_info
    less the pack's nodes."""
    from runner import client as comfy_client

    info = requests.get(f"{servers[1][1]}/object_info", timeout=30).json()
    bare = json.dumps({k: v for k, v in info.items() if k not in comfy_client.pack_node_ids()}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/object_info" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(bare if self.path == "/object_info" else b"{}")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        photo = _good_photos(tmp_path)[0]
        status = _main("extend_legs", "--image", photo, "--out", tmp_path / "out", "--server", url)
    finally:
        httpd.shutdown()
    assert status == 3
    message = f"server {url} lacks node PoseDetectMediaPipe: install comfyui-repaint-extend there"
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out" / "report.json").exists()
    shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_an_unreachable_server_is_skipped_and_the_runner_cleans_up_after_itself(
    servers, batch, tmp_path, capsys
):
    """One server that does not answer and one that does: the photo runs on the live one; the report has
    its windows, model calls and people; local files carry the local counter; the photo uploaded and the
    outputs are deleted from the server's folders unless --keep-on-server."""
    _, url, log = servers[1]
    work_dir = Path(log.name).parent
    photo = _good_photos(tmp_path / "in")[0]
    out = tmp_path / "out"

    def leftovers():
        uploads = sorted(p.name for p in (work_dir / "input").glob("run-workflow-*"))
        return uploads, sorted(p.name for p in (work_dir / "output").glob("run-workflow-*"))

    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    argv = [
        "extend_legs",
        "--image",
        photo,
        "--out",
        out,
        "--steps",
        STEPS,
        "--server",
        dead,
        "--server",
        url,
    ]
    assert _main(*argv) == 0
    assert f"server {dead} does not answer" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert isinstance(report["tiles"], int) and report["tiles"] > 0 and report["nfe"] >= report["tiles"]
    in_process = json.loads((batch[1] / "a_man" / "report.json").read_text())  # the same photo, in-process
    assert report["people"] == in_process["people"] == 1 and report["legs"] == in_process["legs"]
    assert Path(report["output_image"]).name == "extend_legs_00001_.png"
    assert leftovers() == ([], [])
    assert _main(*argv, "--force", "--keep-on-server") == 0
    report = json.loads((out / "report.json").read_text())
    assert (
        Path(report["output_image"]).name == "extend_legs_00002_.png"
    )  # the local counter, nothing replaced
    uploads, folders = leftovers()
    assert len(uploads) == 1 and len(folders) == 1
    assert _main("extend_legs", "--image", photo, "--out", tmp_path / "none", "--server", dead) == 3

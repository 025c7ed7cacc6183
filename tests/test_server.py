"""A RePaint graph through a real ComfyUI server (``main.py --cpu``) on loopback, as the UI would send it."""

import json
import time
import urllib.request

import pytest


def _request(url, data=None, timeout=10):
    body = None if data is None else json.dumps(data).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.fixture
def server(comfy, tmp_path):
    proc, base, log = comfy.start_server(tmp_path, timeout=180)
    try:
        yield base, tmp_path
    finally:
        comfy.stop_server(proc, log)


def test_repaint_graph_runs_on_a_loopback_server(server, graphs):
    base, work_dir = server
    info = _request(f"{base}/object_info/KSamplerRePaint")["KSamplerRePaint"]
    assert "jump_length" in info["input"]["required"]
    prompt, ids = graphs.repaint_inpaint(
        kind="flow", steps=6, jump_length=2, jump_n_sample=2, save_prefix="server"
    )
    prompt_id = _request(f"{base}/prompt", {"prompt": prompt})["prompt_id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        history = _request(f"{base}/history/{prompt_id}")
        if prompt_id in history and history[prompt_id]["status"].get("completed") is not None:
            break
        time.sleep(0.5)
    entry = history[prompt_id]
    assert entry["status"]["status_str"] == "success", entry["status"]
    images = entry["outputs"][ids["output"]]["images"]
    assert len(images) == 1 and (work_dir / "output" / images[0]["filename"]).is_file()

"""A RePaint graph through a real ComfyUI server (``main.py --cpu``) on loopback, as the UI would send it."""

import time

import pytest


@pytest.fixture
def server(comfy, tmp_path):
    with comfy.serve(tmp_path) as base:
        yield base, tmp_path


def test_repaint_graph_runs_on_a_loopback_server(server, graphs, comfy):
    base, work_dir = server
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

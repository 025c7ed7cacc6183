"""A RePaint graph through a real ComfyUI server (``main.py --cpu``) on loopback, as the UI would send it."""

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url, data=None, timeout=10):
    body = None if data is None else json.dumps(data).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.fixture
def server(comfy, tmp_path):
    port = _free_port()
    log = open(tmp_path / "server.log", "w")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        comfy.server_command(tmp_path, port), stdout=log, stderr=subprocess.STDOUT, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                _request(f"{base}/object_info/RePaintSampler", timeout=2)
                break
            except OSError as error:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_tail = (tmp_path / "server.log").read_text()[-3000:]
                    raise RuntimeError(f"ComfyUI server did not start:\n{log_tail}") from error
                time.sleep(0.5)
        yield base, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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

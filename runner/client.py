"""A client of ComfyUI's own HTTP API (``main.py``'s server), for the batch runner's ``--server`` mode.

One :class:`ComfyServer` per URL the user gives; nothing else is contacted. It uses ComfyUI's routes
(ComfyUI 0.3.75, ``server.py``):

- ``GET /object_info``: every node type with its inputs (and the model files its loaders offer);
- ``POST /upload/image`` (multipart ``image``, ``overwrite``): a file into the server's input folder;
- ``GET /ws?clientId=ID``: JSON messages ``progress``, ``executing``, ``execution_success``,
  ``execution_error``, ``execution_interrupted`` (each with ``prompt_id``), binary previews;
- ``POST /prompt`` ``{"prompt", "client_id"}``: queues an API prompt, answers ``prompt_id`` (400 with
  ``node_errors`` when it does not validate);
- ``GET /history/<prompt_id>``: the finished prompt's ``status`` and ``outputs`` (``images`` lists);
- ``GET /view?filename&subfolder&type``: an output file's bytes.

HTTP through ``requests``, the web socket through ``websocket-client``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import requests
import websocket

from repaint_extend.adapters.routes import ROUTE as CLEANUP_ROUTE

from .report import node_errors_line, one_line

PACK_NODES = Path(__file__).resolve().parent.parent / "repaint_extend" / "nodes"
PACK_NAME = "comfyui-repaint-extend"


class ServerDown(RuntimeError):
    """The server does not answer (refused, reset, timed out) or answers with a server error (5xx)."""


class PromptFailed(RuntimeError):
    """The server ran or validated the prompt and reports an error (the message's first line says why)."""


def pack_node_ids() -> set[str]:
    """This pack's node IDs, read from its ``repaint_extend/nodes/*.py`` sources (no host needed)."""
    return {
        node_id
        for path in PACK_NODES.glob("*.py")
        for node_id in re.findall(r'node_id="(\w+)"', path.read_text())
    }


def first_line(text: str) -> str:
    """The first non-empty line of ``text`` (an error's one-line summary)."""
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "unknown error")


class ComfyServer:
    """One ComfyUI server at ``url`` (``http://host:port``).

    Args:
        url: the server's base URL, as the user gave it.
        timeout: seconds for each HTTP request and for each silence on the web socket before the
            server is asked whether it is still there.
    """

    def __init__(self, url: str, timeout: float = 30.0):
        parts = urlsplit(url if "//" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--server {url!r}: expected http://HOST:PORT")
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.ws_url = ("wss" if parts.scheme == "https" else "ws") + self.url[len(parts.scheme) :] + "/ws"
        self.timeout = timeout
        self.session = requests.Session()

    def __repr__(self) -> str:
        return self.url

    def _request(self, method: str, route: str, **kwargs) -> requests.Response:
        try:
            response = self.session.request(method, self.url + route, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise ServerDown(f"server {self.url} does not answer: {first_line(error)}") from error
        if response.status_code >= 500:
            raise ServerDown(f"server {self.url}: {method} {route} -> HTTP {response.status_code}")
        return response

    def object_info(self) -> dict:
        """``GET /object_info``: ``{class_type: {"input": {"required", "optional"}, "output", ...}}``."""
        response = self._request("GET", "/object_info")
        response.raise_for_status()
        return response.json()

    def upload(self, name: str, data: bytes) -> str:
        """``POST /upload/image``: ``data`` (a PNG) into the server's input folder as ``name``; the name
        LoadImage reads it by."""
        response = self._request(
            "POST",
            "/upload/image",
            files={"image": (name, data, "image/png")},
            data={"overwrite": "true"},
        )
        if response.status_code != 200:
            raise PromptFailed(f"server {self.url} refused the upload of {name}: HTTP {response.status_code}")
        answer = response.json()
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else answer["name"]

    def run(self, prompt: dict, on_progress=None) -> dict:
        """Queue ``prompt``, follow it on ``/ws`` and return its ``/history`` entry (``outputs``, ``status``).

        Args:
            prompt: an API prompt.
            on_progress: called as ``on_progress(value, max, node_id)`` for each progress message.

        Raises:
            ServerDown: the server stopped answering (the web socket closed, a request failed).
            PromptFailed: the prompt did not validate or a node raised (``execution_error``).
        """
        client_id = uuid.uuid4().hex
        try:
            socket = websocket.create_connection(f"{self.ws_url}?clientId={client_id}", timeout=self.timeout)
        except (OSError, websocket.WebSocketException) as error:
            raise ServerDown(f"server {self.url} does not answer on /ws: {first_line(error)}") from error
        try:
            response = self._request("POST", "/prompt", json={"prompt": prompt, "client_id": client_id})
            answer = response.json()
            if response.status_code != 200 or answer.get("node_errors"):
                if answer.get("prompt_id"):  # queued with some outputs invalid: take it back
                    self._request("POST", "/queue", json={"delete": [answer["prompt_id"]]})
                raise PromptFailed(f"server {self.url} rejected the prompt: {rejection_line(answer)}")
            prompt_id = answer["prompt_id"]
            self._wait(socket, prompt_id, on_progress)
        finally:
            socket.close()
        return self._history(prompt_id)

    def _history(self, prompt_id: str) -> dict:
        """The ``/history`` entry of a finished prompt. The server sends its last ``executing`` message
        before its worker stores the entry, so this asks again (every 0.2 s, up to ``timeout``)."""
        deadline = time.monotonic() + self.timeout
        while True:
            entry = self._request("GET", f"/history/{prompt_id}").json().get(prompt_id)
            if entry is not None and entry.get("status", {}).get("completed") is not None:
                break
            if time.monotonic() > deadline:
                raise ServerDown(f"server {self.url}: prompt {prompt_id} finished but has no history entry")
            time.sleep(0.2)
        if entry["status"].get("status_str") != "success":
            raise PromptFailed(
                f"server {self.url}: prompt {prompt_id} ended with {entry['status'].get('status_str')}"
            )
        return entry

    def _wait(self, socket, prompt_id: str, on_progress) -> None:
        while True:
            try:
                message = socket.recv()
            except websocket.WebSocketTimeoutException:
                self._request("GET", "/queue")  # still there? (raises ServerDown if not)
                continue
            except (OSError, websocket.WebSocketException) as error:
                raise ServerDown(
                    f"server {self.url} stopped answering: {first_line(error) or 'closed'}"
                ) from error
            if not isinstance(message, str):
                continue  # a binary preview
            if not message:
                raise ServerDown(f"server {self.url} closed the web socket")
            event = json.loads(message)
            kind, data = event.get("type"), event.get("data") or {}
            if data.get("prompt_id") != prompt_id:
                continue
            if kind == "progress" and on_progress is not None:
                on_progress(data.get("value"), data.get("max"), data.get("node"))
            elif kind == "execution_error":
                raise PromptFailed(first_line(data.get("exception_message", "execution error")))
            elif kind == "execution_interrupted":
                raise PromptFailed(f"server {self.url} interrupted the prompt")
            elif kind == "execution_success" or (kind == "executing" and data.get("node") is None):
                return

    def cleanup(self, inputs: list[str], outputs: list[str]) -> None:
        """Delete the photos this runner uploaded (``inputs``) and the output subfolders its prompts saved
        into (``outputs``) from the server's folders (the pack's route, ``adapters/routes.py``). Best
        effort: a server that does not answer keeps them, and says nothing."""
        try:
            self._request("POST", CLEANUP_ROUTE, json={"input": inputs, "output": outputs})
        except ServerDown:
            pass

    def download(self, image: dict) -> bytes:
        """``GET /view``: the bytes of an output listed in a history entry (``filename``, ``subfolder``, ``type``)."""
        params = {k: image.get(k, "") for k in ("filename", "subfolder", "type")}
        response = self._request("GET", "/view", params=params)
        if response.status_code != 200:
            raise PromptFailed(
                f"server {self.url}: /view {params['filename']} -> HTTP {response.status_code}"
            )
        return response.content


def rejection_line(answer: dict) -> str:
    """One readable line from a ``POST /prompt`` refusal: ComfyUI's message and the first failing node."""
    error = answer.get("error", {})
    message = error.get("message", "") if isinstance(error, dict) else str(error)
    node_errors = answer.get("node_errors") or {}
    return one_line(f"{message}: {node_errors_line(node_errors)}" if node_errors else message or "invalid")


def check_server(server: ComfyServer, object_info: dict, class_types: set[str]) -> list[str]:
    """One line per node type in ``class_types`` that ``server`` lacks (empty: it has them all)."""
    ours = pack_node_ids()
    problems = []
    for class_type in sorted(class_types - set(object_info)):
        fix = (
            f"install {PACK_NAME} there"
            if class_type in ours
            else "a node of another pack or a newer ComfyUI"
        )
        problems.append(f"server {server.url} lacks node {class_type}: {fix}")
    return problems

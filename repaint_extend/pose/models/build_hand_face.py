"""Build ``hand_landmarker.task`` and ``face_landmarker.task`` (MediaPipe Tasks bundles) from a registry package.

Source: the PyPI wheel ``mediapipe==0.10.21`` (Apache-2.0), which still ships the TFLite models of the
legacy ``mp.solutions.hands`` / ``mp.solutions.face_mesh``. The wheel itself is hash-checked (its sha256
below) when given with ``--wheel``; each TFLite file read from it is hash-checked in any case (the
``SOURCES`` table). The npm packages ``@mediapipe/hands`` and ``@mediapipe/face_mesh`` (also Apache-2.0)
carry the same files, but one source is enough and the pose bundle (``build_task.py``) already comes
from this wheel.

A Tasks ``.task`` bundle is an uncompressed, 4-byte aligned zip of TFLite files whose image input
carries normalisation metadata. What MediaPipe Tasks (``HandLandmarker`` / ``FaceLandmarker``) look for
(file names from ``mediapipe/tasks/cc/vision/{hand,face}_landmarker/*_graph.cc``):

``hand_landmarker.task`` (both files packed unchanged: the wheel's hand models already carry Tasks
metadata, whose image normalisation the script checks)
  * ``hand_detector.tflite`` = ``modules/palm_detection/palm_detection_full.tflite`` (BlazePalm, 192 x 192),
    input mean 0 / std 255 (pixels -> [0, 1]: ``palm_detection_cpu.pbtxt``, ``output_tensor_float_range``
    0..1);
  * ``hand_landmarks_detector.tflite`` = ``modules/hand_landmark/hand_landmark_full.tflite`` (21 points,
    224 x 224), input mean 0 / std 255 (``hand_landmark_cpu.pbtxt``: 0..1).

``face_landmarker.task`` (the wheel's face models have no metadata: the script adds the image-input
normalisation with the wheel's own metadata writer; the weights are unchanged)
  * ``face_detector.tflite`` = ``modules/face_detection/face_detection_short_range.tflite`` (BlazeFace,
    128 x 128), input mean 127.5 / std 127.5 (pixels -> [-1, 1]: ``face_detection.pbtxt``: -1..1);
  * ``face_landmarks_detector.tflite`` = ``modules/face_landmark/face_landmark_with_attention.tflite``
    (478 points: the 468-point mesh refined around lips and eyes, plus 10 iris points), input mean 0 /
    std 255 (0..1, as ``face_landmark_cpu.pbtxt`` of the attention model).

``--check IMAGE ...`` then runs the new bundles with the wheel's own Tasks API and the legacy solutions
of the same wheel (``mp.solutions.hands``, ``mp.solutions.face_mesh`` with ``refine_landmarks``), which
run the same TFLite files through MediaPipe's original graphs, and prints the largest distance between
their points. On scikit-image's astronaut the 478 face points agree within 0.002 px (which checks the
normalisation metadata and the mesh refinement assembled here); on the drawn hand of
``tests/support/drawn_hand.py`` (160 px drawing, hand about 107 px long) the 21 hand points differ by 2.5 px on
average, 6.4 px at most: the Tasks graph crops the hand slightly differently from the legacy one. With the
hand landmark model's input normalised to [-1, 1] instead of [0, 1] they differ by 28 px on average, and
with the palm detector's so normalised no hand is found, which is how the [0, 1] metadata the wheel's hand
models carry was confirmed.

Run it in a THROWAWAY virtual environment (0.10.21 needs numpy < 2; never install it next to ComfyUI)::

    python3 -m venv /tmp/mp010
    /tmp/mp010/bin/pip download mediapipe==0.10.21 --no-deps -d /tmp/mpdl
    /tmp/mp010/bin/pip install --no-deps /tmp/mpdl/mediapipe-0.10.21-*.whl
    /tmp/mp010/bin/pip install "numpy<2" "protobuf>=4.25.3,<5" absl-py flatbuffers attrs \
        "opencv-python-headless<4.11" matplotlib
    /tmp/mp010/bin/python repaint_extend/pose/models/build_hand_face.py --wheel /tmp/mpdl/mediapipe-0.10.21-cp311-*.whl

It writes ``pose/models/hand_landmarker.task`` and ``pose/models/face_landmarker.task`` and prints
their sha256; it is deterministic (fixed zip timestamps), so the same wheel gives the same bytes
(the sha256 of the shipped bundles are in ``pose/models/NOTICE``). Without ``--wheel`` the TFLite
files are read from the installed ``mediapipe`` package (still hash-checked).

Licence: the models are Google's, Apache-2.0 (see ``pose/models/NOTICE``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import zipfile

WHEEL_SHA256 = {
    # mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl (PyPI)
    "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl": (
        "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
    ),
}
"""Known wheels of mediapipe 0.10.21 (other platforms' wheels carry the same TFLite files; the
per-file hashes below are what matters)."""

SOURCES = {
    "palm_detection/palm_detection_full.tflite": (
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54"
    ),
    "hand_landmark/hand_landmark_full.tflite": "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    "face_detection/face_detection_short_range.tflite": (
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
    ),
    "face_landmark/face_landmark_with_attention.tflite": (
        "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4"
    ),
}
"""sha256 of each TFLite file under ``mediapipe/modules/`` of the 0.10.21 wheel."""

BUNDLE_SHA256 = {
    "hand_landmarker.task": "69d2f7376a06c7aec4e96507c19adef8ee248fe72fb3c82ed11e8fd90c21bc97",
    "face_landmarker.task": "40f34427e35a8e50c609965db843b021ce9735dda20a4df03b9eb9657f4d9188",
}
"""sha256 of the bundles this script writes from mediapipe 0.10.21 (the shipped ones; see NOTICE)."""

# bundle -> [(entry name, source file, model name, description, (mean, std) or None)]; None: the file
# already carries its metadata (image input mean 0 / std 255) and is packed unchanged.
BUNDLES = {
    "hand_landmarker.task": [
        (
            "hand_detector.tflite",
            "palm_detection/palm_detection_full.tflite",
            "HandDetector",
            "MediaPipe BlazePalm palm detector (full)",
            None,
        ),
        (
            "hand_landmarks_detector.tflite",
            "hand_landmark/hand_landmark_full.tflite",
            "HandLandmarksDetector",
            "MediaPipe hand landmarks (21 points, full)",
            None,
        ),
    ],
    "face_landmarker.task": [
        (
            "face_detector.tflite",
            "face_detection/face_detection_short_range.tflite",
            "FaceDetector",
            "MediaPipe BlazeFace short-range face detector",
            (127.5, 127.5),
        ),
        (
            "face_landmarks_detector.tflite",
            "face_landmark/face_landmark_with_attention.tflite",
            "FaceLandmarksDetector",
            "MediaPipe Face Mesh with attention (478 points)",
            (0.0, 255.0),
        ),
    ],
}


def _build_task():
    """The sibling ``build_task.py`` (the pose bundle's script), loaded by path: this file runs as a script
    in a throwaway virtual environment where the pack is not installed. Its bundle writer and metadata
    helper are the ones used here."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build_task.py")
    spec = importlib.util.spec_from_file_location("build_task", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_TASK = _build_task()
_with_metadata, _write_bundle = _TASK._with_metadata, _TASK._write_bundle


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_normalisation(model: bytes, rel: str, expected: tuple[float, float]) -> None:
    """Refuse a model whose own metadata does not normalise its image input by ``expected`` (mean, std)."""
    import json

    from mediapipe.tasks.python.metadata import metadata

    meta = json.loads(metadata.MetadataDisplayer.with_model_buffer(bytearray(model)).get_metadata_json())
    units = meta["subgraph_metadata"][0]["input_tensor_metadata"][0]["process_units"]
    norm = next(u["options"] for u in units if u["options_type"] == "NormalizationOptions")
    if set(norm["mean"]) != {expected[0]} or set(norm["std"]) != {
        expected[1]
    }:  # one value, or one per channel
        raise SystemExit(f"error: {rel} normalises its input by {norm}, expected mean/std {expected}")


# MediaPipe's refinement of the attention model's outputs, from its Tasks source
# (mediapipe/tasks/cc/vision/face_landmarker/tensors_to_face_landmarks_graph.cc at v0.10.x, constants
# kLipsLandmarksIndicesMapping, kLeftEyeLandmarksIndicesMapping, kRightEyeLandmarksIndicesMapping and the
# iris indices 468..477; the legacy graph face_landmark/tensors_to_face_landmarks_with_attention.pbtxt
# applies the same tables): the model's refined lips, eyes and irises replace the mesh points they
# name, in this order.
LIPS = (
    (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
    + (185, 40, 39, 37, 0, 267, 269, 270, 409)
    + (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
    + (191, 80, 81, 82, 13, 312, 311, 310, 415)
    + (76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306)
    + (184, 74, 73, 72, 11, 302, 303, 304, 408)
    + (62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292)
    + (183, 42, 41, 38, 12, 268, 271, 272, 407)
)
LEFT_EYE = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
    + (130, 25, 110, 24, 23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190)
    + (226, 31, 228, 229, 230, 231, 232, 233, 244, 113, 225, 224, 223, 222, 221, 189)
    + (35, 124, 46, 53, 52, 65)
    + (143, 111, 117, 118, 119, 120, 121, 128, 245, 156, 70, 63, 105, 66, 107, 55, 193)
)
RIGHT_EYE = (
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)
    + (359, 255, 339, 254, 253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414)
    + (446, 261, 448, 449, 450, 451, 452, 453, 464, 342, 445, 444, 443, 442, 441, 413)
    + (265, 353, 276, 283, 282, 295)
    + (372, 340, 346, 347, 348, 349, 350, 357, 465, 383, 300, 293, 334, 296, 336, 285, 417)
)
N_MESH, N_REFINED = 468, 478


def refinement_indices() -> tuple[list[int], list[int]]:
    """``(xy, z)``: for each of the 478 output landmarks, the row of the stacked ``[700, 2]`` xy table
    (mesh 0..467, lips 468..547, left eye 548..618, right eye 619..689, left iris 690..694, right iris
    695..699) and of the mesh's z column that it takes. The irises have no z in the model; they take
    the z of their eye's outer corner (mesh 33 / 263). MediaPipe averages the eye contour's z instead;
    we only use x and y."""
    xy = list(range(N_MESH)) + [0] * (N_REFINED - N_MESH)
    base = N_MESH
    for table in (LIPS, LEFT_EYE, RIGHT_EYE):
        for k, mesh_index in enumerate(table):
            xy[mesh_index] = base + k
        base += len(table)
    for k in range(10):  # 468..472 left iris, 473..477 right iris
        xy[N_MESH + k] = base + k
    z = list(range(N_MESH)) + [33] * 5 + [263] * 5
    return xy, z


def single_tensor_face_mesh(model: bytes) -> bytes:
    """Rewrite the attention face-mesh model so that it outputs ``[landmarks 478 x 3, face flag]``.

    MediaPipe Tasks' FaceLandmarker reads one landmark tensor of 478 points (x, y, z in the model's
    192 px input) and a face-presence tensor (``tensors_to_face_landmarks_graph.cc``: only the single
    tensor layout is supported there). ``face_landmark_with_attention.tflite`` has seven outputs
    (mesh 468 x 3, lips 80 x 2, eyes 71 x 2 each, irises 5 x 2 each, face flag). This appends RESHAPE,
    GATHER and CONCATENATION operators that assemble MediaPipe's own refinement
    (:func:`refinement_indices`) inside the model; no weight changes.
    """
    import flatbuffers
    import numpy as np
    from mediapipe.tasks.metadata import schema_py_generated as fb

    m = fb.ModelT.InitFromPackedBuf(bytearray(model), 0)
    g = m.subgraphs[0]
    names = [
        g.tensors[i].name.decode() if isinstance(g.tensors[i].name, bytes) else g.tensors[i].name
        for i in g.outputs
    ]
    want = [
        "output_mesh_identity",
        "output_lips",
        "output_left_eye",
        "output_right_eye",
        "output_left_iris",
        "output_right_iris",
        "conv_faceflag",
    ]
    if names != want:
        raise SystemExit(f"error: unexpected face mesh outputs {names}")
    mesh, lips, leye, reye, liris, riris, flag = g.outputs

    def opcode(code: int) -> int:
        for k, oc in enumerate(m.operatorCodes):
            if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
                return k
        oc = fb.OperatorCodeT()
        oc.builtinCode = oc.deprecatedBuiltinCode = code
        oc.version = 1
        m.operatorCodes.append(oc)
        return len(m.operatorCodes) - 1

    def tensor(name: str, shape, dtype=fb.TensorType.FLOAT32, data: np.ndarray | None = None) -> int:
        buf = fb.BufferT()
        if data is not None:
            buf.data = list(np.ascontiguousarray(data).tobytes())
        m.buffers.append(buf)
        t = fb.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), dtype, len(m.buffers) - 1
        g.tensors.append(t)
        return len(g.tensors) - 1

    def const(name: str, values) -> int:
        arr = np.asarray(values, dtype=np.int32)
        return tensor(name, arr.shape, fb.TensorType.INT32, arr)

    def op(code: int, inputs, outputs, options_type: int, options) -> None:
        o = fb.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = opcode(code), list(inputs), list(outputs)
        o.builtinOptionsType, o.builtinOptions = options_type, options
        g.operators.append(o)

    def reshape(src: int, shape, name: str) -> int:
        out = tensor(name, shape)
        opts = fb.ReshapeOptionsT()
        opts.newShape = list(shape)
        op(
            fb.BuiltinOperator.RESHAPE,
            [src, const(name + "/shape", shape)],
            [out],
            fb.BuiltinOptions.ReshapeOptions,
            opts,
        )
        return out

    def gather(src: int, idx, axis: int, shape, name: str) -> int:
        out = tensor(name, shape)
        opts = fb.GatherOptionsT()
        opts.axis = axis
        op(
            fb.BuiltinOperator.GATHER,
            [src, const(name + "/indices", idx)],
            [out],
            fb.BuiltinOptions.GatherOptions,
            opts,
        )
        return out

    def concat(srcs, axis: int, shape, name: str) -> int:
        out = tensor(name, shape)
        opts = fb.ConcatenationOptionsT()
        opts.axis = axis
        op(fb.BuiltinOperator.CONCATENATION, srcs, [out], fb.BuiltinOptions.ConcatenationOptions, opts)
        return out

    mesh3 = reshape(mesh, (N_MESH, 3), "refine/mesh")
    mesh_xy = gather(mesh3, [0, 1], 1, (N_MESH, 2), "refine/mesh_xy")
    mesh_z = gather(mesh3, [2], 1, (N_MESH, 1), "refine/mesh_z")
    parts = [mesh_xy] + [
        reshape(t, (n, 2), f"refine/{nm}")
        for t, n, nm in (
            (lips, 80, "lips"),
            (leye, 71, "left_eye"),
            (reye, 71, "right_eye"),
            (liris, 5, "left_iris"),
            (riris, 5, "right_iris"),
        )
    ]
    table = concat(parts, 0, (700, 2), "refine/xy_table")
    xy_idx, z_idx = refinement_indices()
    xy = gather(table, xy_idx, 0, (N_REFINED, 2), "refine/xy")
    z = gather(mesh_z, z_idx, 0, (N_REFINED, 1), "refine/z")
    xyz = concat([xy, z], 1, (N_REFINED, 3), "refine/xyz")
    out = reshape(xyz, (1, 1, 1, 3 * N_REFINED), "output_landmarks")
    g.outputs = [out, flag]
    builder = flatbuffers.Builder(len(model) + 65536)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _read_sources(wheel: str | None) -> dict[str, bytes]:
    """The TFLite files of :data:`SOURCES`, from ``wheel`` (a path) or the installed mediapipe."""
    out = {}
    if wheel:
        with open(wheel, "rb") as fh:
            digest = _sha256(fh.read())
        known = WHEEL_SHA256.get(os.path.basename(wheel))
        if known is not None and known != digest:
            raise SystemExit(f"error: {wheel} has sha256 {digest}, expected {known}")
        with zipfile.ZipFile(wheel) as zf:
            for rel in SOURCES:
                out[rel] = zf.read(f"mediapipe/modules/{rel}")
    else:
        import mediapipe

        mp_dir = os.path.dirname(mediapipe.__file__)
        for rel in SOURCES:
            path = os.path.join(mp_dir, "modules", rel)
            if not os.path.isfile(path):
                raise SystemExit(f"error: missing {path}; install mediapipe==0.10.21 (the wheel ships it)")
            with open(path, "rb") as fh:
                out[rel] = fh.read()
    for rel, data in out.items():
        if _sha256(data) != SOURCES[rel]:
            raise SystemExit(
                f"error: {rel} has sha256 {_sha256(data)}, expected {SOURCES[rel]} (mediapipe 0.10.21)"
            )
    return out


def _load_rgb(path: str):
    import numpy as np

    if path.endswith(".npy"):
        return np.ascontiguousarray(np.load(path)[..., :3].astype(np.uint8))
    from PIL import Image

    return np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))


def check(images: list[str], out_dir: str) -> None:
    """Print, per image, the largest distance (px) between the bundles' points (Tasks API) and the legacy
    solutions' points, for every hand / face that both find (matched by their first point)."""
    import mediapipe as mp
    import numpy as np
    from mediapipe.tasks.python import BaseOptions, vision

    hand = vision.HandLandmarker.create_from_options(
        vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=os.path.join(out_dir, "hand_landmarker.task")),
            num_hands=4,
        )
    )
    face = vision.FaceLandmarker.create_from_options(
        vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=os.path.join(out_dir, "face_landmarker.task")),
            num_faces=4,
        )
    )
    for path in images:
        img = _load_rgb(path)
        h, w = img.shape[:2]
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=img)

        def px(lms, w=w, h=h):
            return np.array([(p.x * w, p.y * h) for p in lms])

        tasks = {
            "hands": [px(x) for x in hand.detect(image).hand_landmarks],
            "faces": [px(x) for x in face.detect(image).face_landmarks],
        }
        with mp.solutions.hands.Hands(static_image_mode=True, max_num_hands=4) as legacy_hands:
            found = legacy_hands.process(img).multi_hand_landmarks or []
        with mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=4, refine_landmarks=True
        ) as fm:
            found_faces = fm.process(img).multi_face_landmarks or []
        legacy = {"hands": [px(x.landmark) for x in found], "faces": [px(x.landmark) for x in found_faces]}
        for kind in ("hands", "faces"):
            diffs = []
            for a in tasks[kind]:
                if legacy[kind]:
                    b = min(legacy[kind], key=lambda b: np.hypot(*(b[0] - a[0])))
                    diffs.append((float(np.hypot(*(a - b).T).max()), float(np.hypot(*(a - b).T).mean())))
            line = f"check {os.path.basename(path)} {kind}: bundle {len(tasks[kind])}, legacy {len(legacy[kind])}"
            if diffs:
                line += f"; largest distance {max(d[0] for d in diffs):.3f} px, mean {max(d[1] for d in diffs):.3f} px"
            print(line)


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--wheel", help="mediapipe 0.10.21 wheel to read the TFLite files from (hash-checked)")
    ap.add_argument("--out-dir", default=here, help="where to write the bundles (default: this folder)")
    ap.add_argument(
        "--check", nargs="+", metavar="IMAGE", help="compare the bundles with the legacy solutions"
    )
    args = ap.parse_args(argv)
    try:
        from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer  # noqa: F401
    except ImportError:
        print("error: run this script in a venv with mediapipe==0.10.21 (see the docstring)", file=sys.stderr)
        return 2
    sources = _read_sources(args.wheel)
    for bundle, parts in BUNDLES.items():
        entries = {}
        for entry, src, name, description, norm in parts:
            if norm is None:
                _check_normalisation(sources[src], src, (0.0, 255.0))
                entries[entry] = sources[src]
            else:
                model = sources[src]
                if entry == "face_landmarks_detector.tflite":
                    model = single_tensor_face_mesh(model)
                entries[entry] = _with_metadata(model, name, description, *norm)
        out = os.path.join(args.out_dir, bundle)
        _write_bundle(entries, out)
        with open(out, "rb") as fh:
            digest = _sha256(fh.read())
        same = "as shipped" if digest == BUNDLE_SHA256[bundle] else "DIFFERS from the shipped bundle"
        print(f"wrote {out} ({os.path.getsize(out)} bytes, sha256 {digest}, {same})")
    if args.check:
        check(args.check, args.out_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

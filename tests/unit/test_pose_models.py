"""The shipped MediaPipe bundles (issue 23) are what pose/models/build_hand_face.py writes: hashes, entries,
and the face-mesh refinement table it assembles inside the model."""

import hashlib
import importlib.util
import zipfile
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[2] / "repaint_extend" / "pose" / "models"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_hand_face", MODELS / "build_hand_face.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports nothing beyond the standard library at load time
    return module


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_shipped_bundles_are_the_ones_the_script_builds(build):
    for name, digest in build.BUNDLE_SHA256.items():
        assert _sha256((MODELS / name).read_bytes()) == digest, f"{name} differs from the script's output"
        assert name in (MODELS / "NOTICE").read_text() and digest in (MODELS / "NOTICE").read_text()


def test_bundle_entries_and_unchanged_hand_models(build):
    for bundle, parts in build.BUNDLES.items():
        with zipfile.ZipFile(MODELS / bundle) as zf:
            assert zf.namelist() == [entry for entry, *_ in parts]
            assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())  # the runtime mmaps them
            for entry, source, _name, _description, norm in parts:
                if norm is None:  # packed as the wheel has it
                    assert _sha256(zf.read(entry)) == build.SOURCES[source], entry


def test_refinement_table_follows_mediapipe_order(build):
    xy, z = build.refinement_indices()
    assert len(xy) == len(z) == 478
    lips, left, right = len(build.LIPS), len(build.LEFT_EYE), len(build.RIGHT_EYE)
    assert (lips, left, right) == (80, 71, 71)
    assert xy[61] == 468 and xy[87] == 468 + build.LIPS.index(87)  # first lip point; a later one
    assert xy[33] == 468 + lips and xy[263] == 468 + lips + left  # eye corners from the eye outputs
    assert xy[468:] == list(range(468 + lips + 2 * left, 700))  # irises: the last 10 rows of the table
    untouched = set(range(468)) - set(build.LIPS) - set(build.LEFT_EYE) - set(build.RIGHT_EYE)
    assert all(xy[i] == i for i in untouched) and z[:468] == list(range(468))
    assert z[468:473] == [33] * 5 and z[473:] == [263] * 5
    assert not set(build.LIPS) & set(build.LEFT_EYE) and not set(build.LEFT_EYE) & set(build.RIGHT_EYE)

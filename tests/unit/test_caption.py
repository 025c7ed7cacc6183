"""The BLIP captioning core (caption/) on a tiny randomly initialised BLIP saved to a folder the way a
downloaded model is (tests/support/tiny_blip.py): loading from local files only, clear errors for missing
files, deterministic captions made of the tokenizer's words that depend on the image."""

import re
import shutil
from pathlib import Path

import pytest
import torch
from support import tiny_blip

from repaint_extend.caption import caption_images, check_blip_folder, load_blip

WORDS = set(tiny_blip.WORDS)


@pytest.fixture(scope="module")
def blip_folder(tmp_path_factory):
    return tiny_blip.save_tiny_blip(tmp_path_factory.mktemp("blip") / "tiny-blip")


@pytest.fixture(scope="module")
def captioner(blip_folder):
    return load_blip(blip_folder)


def _images():
    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0, 1, 48)
    return torch.stack(
        [
            torch.zeros(40, 48, 3),
            torch.ones(40, 48, 3),
            torch.rand(40, 48, 3, generator=g),
            ramp.expand(40, 48)[..., None].expand(40, 48, 3),
        ]
    )


def test_captions_are_deterministic_words_of_the_vocabulary_and_depend_on_the_image(captioner):
    images = _images()
    snapshot = images.clone()
    captions = caption_images(captioner, images)
    assert len(captions) == 4
    for caption in captions:
        assert caption and "\n" not in caption
        assert set(caption.split()) <= WORDS, caption
    assert len(set(captions)) >= 3  # black, white, noise and a ramp do not all read the same
    assert caption_images(captioner, images) == captions  # no sampling
    assert torch.equal(images, snapshot)  # the input is not modified
    # batching does not change a caption, and progress is reported per batch
    calls = []
    one_by_one = caption_images(captioner, images, batch_size=3, progress=lambda *a: calls.append(a))
    assert one_by_one == captions and calls == [(3, 4), (4, 4)]
    greedy = caption_images(captioner, images, num_beams=1, max_new_tokens=3)
    assert all(len(c.split()) <= 3 for c in greedy)


def test_a_prompt_is_the_start_of_the_caption(captioner):
    images = _images()[:2]
    captions = caption_images(captioner, images, prompt="  A photo  of ")
    for caption in captions:
        assert caption.startswith("a photo of ") and len(caption.split()) > 3
        assert set(caption.split()) <= WORDS
    assert captions != caption_images(captioner, images)


def test_mask_captions_the_known_part_only(captioner):
    images = _images()
    known = images[2:3, :, :24]  # noise on the left
    canvas = torch.cat([known, torch.ones(1, 40, 24, 3)], dim=2)  # white padding on the right
    mask = torch.zeros(40, 48)
    mask[:, 24:] = 1
    assert caption_images(captioner, canvas, mask=mask) == caption_images(captioner, known)
    assert caption_images(captioner, canvas, mask=mask) != caption_images(captioner, canvas)
    # nothing known: the whole image
    everything = torch.ones(1, 40, 48)
    assert caption_images(captioner, canvas, mask=everything) == caption_images(captioner, canvas)
    # RGBA and grey images: alpha is ignored, grey is read as RGB
    rgba = torch.cat([images, torch.rand(4, 40, 48, 1)], dim=-1)
    assert caption_images(captioner, rgba) == caption_images(captioner, images)
    grey = images[2:3, ..., :1]
    assert caption_images(captioner, grey) == caption_images(captioner, grey.expand(-1, -1, -1, 3))


def test_bad_input_names_the_input(captioner):
    with pytest.raises(ValueError, match="images"):
        caption_images(captioner, torch.zeros(40, 48, 3))
    with pytest.raises(ValueError, match="images"):
        caption_images(captioner, torch.zeros(1, 40, 48, 2))
    with pytest.raises(ValueError, match="images"):
        caption_images(captioner, torch.zeros(1, 40, 48, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="mask"):
        caption_images(captioner, torch.zeros(1, 40, 48, 3), mask=torch.zeros(40, 40))
    with pytest.raises(ValueError, match="max_new_tokens"):
        caption_images(captioner, torch.zeros(1, 40, 48, 3), max_new_tokens=0)


def test_missing_folder_or_files_are_named(blip_folder, tmp_path):
    missing = tmp_path / "no-such-blip"
    with pytest.raises(FileNotFoundError, match="no-such-blip") as error:
        load_blip(missing)
    assert "models/blip/" in str(error.value) and "Salesforce/blip-image-captioning-base" in str(error.value)
    for name, part in (
        ("model.safetensors", "weights"),
        ("config.json", "config"),
        ("tokenizer.json", "tokenizer"),
        ("processor_config.json", "preprocessor"),
    ):
        copy = tmp_path / f"without-{name}"
        shutil.copytree(blip_folder, copy)
        (copy / name).unlink()
        with pytest.raises(FileNotFoundError) as error:
            load_blip(copy)
        message = str(error.value)
        assert str(copy) in message and name in message and part in message, message
        others = {"weights", "config", "tokenizer", "image preprocessor"} - {part, "image " + part}
        assert not any(f"{o} (" in message for o in others)  # only the missing part is listed
    other = tmp_path / "blip2"
    shutil.copytree(blip_folder, other)
    (other / "config.json").write_text('{"model_type": "blip-2"}')
    with pytest.raises(ValueError, match="blip-2"):
        check_blip_folder(other)


def test_core_package_never_imports_the_host():
    root = Path(__file__).resolve().parents[2] / "repaint_extend" / "caption"
    pat = re.compile(r"^\s*(import|from)\s+(comfy\w*|nodes|folder_paths|server|execution)\b", re.M)
    offenders = [str(p) for p in root.rglob("*.py") if pat.search(p.read_text())]
    assert root.is_dir() and offenders == []

"""Training and data code of the demo DDPMs in ``pixel/weights`` (not part of what ComfyUI runs).

ComfyUI imports the repository root's ``__init__.py``, which imports only ``nodes/``; nothing there or in
the runtime packages imports this folder. The embedded models are loaded at run time from their weight
files alone.

    digits.py       scikit-learn's digits: the fixed split and the image form of the digits DDPM.
    photos.py       seeded 64 px crops of CC0 / public-domain photos for the photos DDPM.
    train_ddpm.py   the training script: ``python training/train_ddpm.py [--dataset photos]``.
    check_photos.py RePaint inpainting check of the photos DDPM: ``python training/check_photos.py``.

See ``pixel/weights/DATA.md`` for the data, the licences and the commands that made the weights.
"""

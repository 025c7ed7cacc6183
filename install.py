"""Run by ComfyUI-Manager after cloning the pack: install the pack's needs into ComfyUI's Python.

requirements.txt installs normally; requirements-nodeps.txt (mediapipe) installs with --no-deps, because
mediapipe's opencv-contrib-python would overwrite the cv2 of opencv-python-headless.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    pip = [sys.executable, "-m", "pip", "install"]
    subprocess.check_call([*pip, "-r", str(HERE / "requirements.txt")])
    subprocess.check_call([*pip, "--no-deps", "-r", str(HERE / "requirements-nodeps.txt")])

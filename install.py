"""Run by ComfyUI-Manager after cloning the pack: install requirements.txt into ComfyUI's Python."""

import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    requirements = Path(__file__).resolve().parent / "requirements.txt"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-r", str(requirements)])

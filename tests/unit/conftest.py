"""Unit tests: the core alone. They never boot ComfyUI; asking for the ``comfy`` fixture here fails."""

import pytest


@pytest.fixture(scope="session")
def comfy():
    pytest.fail("a unit test asked for ComfyUI: move it to tests/integration/")

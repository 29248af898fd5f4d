"""The journeys of the scale-out stack run only against a stack that is up: `make test-scale`
(tests/scale/stack.py) starts one and names its state file in SCALE_STATE. Without it these
files are not collected at all, so the suite (`make test`) never sees them."""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import browser, new_context, playwright  # noqa: F401 (fixtures)

STATE_FILE = os.environ.get("SCALE_STATE", "")
collect_ignore_glob = [] if STATE_FILE else ["test_*.py"]


def stack_state() -> dict[str, Any]:
    """The stack as it is now (the app servers' pids change when one is started again)."""
    return json.loads(Path(STATE_FILE).read_text())


@pytest.fixture
def base_url() -> str:
    return str(stack_state()["base_url"])

"""One child process per test session runs the hostile cases (each in a fresh fork)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hardening_support import HostileRunner


@pytest.fixture(scope="session")
def hostile_runner() -> Iterator[HostileRunner]:
    runner = HostileRunner()
    yield runner
    runner.close()

"""Shared fixtures and the optional-tool policy.

Tests that need an external tool (tshark, chromium, xelatex, root for
network namespaces) call :func:`require_tool`.  Locally a missing tool
skips the test with a reason; with ``TLSDOC_REQUIRE_TOOLS=1`` (set by
``.ci/run``) the skip becomes a failure, so CI always runs them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
STRICT = os.environ.get("TLSDOC_REQUIRE_TOOLS", "") not in ("", "0")


def missing(reason: str) -> None:
    """Skip (locally) or fail (in CI) because something optional is missing."""
    if STRICT:
        pytest.fail(f"required in CI (TLSDOC_REQUIRE_TOOLS=1): {reason}")
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """Return the path of executable *name*, or skip/fail when it is absent."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed")
    return path


def require_root() -> None:
    if os.geteuid() != 0:
        missing("needs root (network namespaces)")

"""A real hub on a temporary data dir with an exporter (cn-freight) and an importer
(vn-carrier), each with its own key file, registered through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline.test_cli_flow import run


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    run("init", "--data-dir", str(d))
    for pid, jur, role in (("cn-freight", "CN", "exporter"), ("vn-carrier", "VN", "importer")):
        key = str(tmp_path / f"{pid}.key")
        run(*("participant", "add", "--id", pid, "--name", pid, "--jurisdiction", jur),
            *("--role", role, "--key-file", key, "--data-dir", str(d)))  # fmt: skip
    return d

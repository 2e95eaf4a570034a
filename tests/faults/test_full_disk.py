"""A full disk: the hub's data directory on a small tmpfs (mounted here, as root), filled
up. Submissions then fail with 503 and a message naming the storage, nothing half-written
is kept (a retry with the same Idempotency-Key after space is freed commits once), every
batch acknowledged before is intact and the ledger verifies."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from api.cast import PRODUCT, PURPOSE, serve_cast, waybill

from silkgate.errors import SilkgateError


@contextlib.contextmanager
def small_filesystem(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(path: Path, leave: int) -> None:
    stat = os.statvfs(path.parent)
    free = stat.f_bavail * stat.f_frsize
    with path.open("wb") as filler:
        filler.write(b"\0" * max(0, free - leave))


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_a_full_disk_refuses_with_503_and_loses_nothing(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "disk", "16m") as disk, serve_cast(disk) as env:
        exporter = env.clients["cn-exporter"]
        acknowledged = [
            exporter.submit_batch("vn-importer", PRODUCT, [waybill(n)], purpose=PURPOSE).batch_id
            for n in range(5)
        ]
        filler = env.hub.data_dir / "filler"
        _fill(filler, leave=32 * 1024)
        refused = None
        big = [waybill(n) | {"remark": "x" * 2000} for n in range(50)]
        for n in range(50):
            response = exporter.request(
                "POST", "/v1/batches", check=False, headers={"Idempotency-Key": f"full-{n}"},
                body={"importer": "vn-importer", "product": PRODUCT, "purpose": PURPOSE,
                      "records": big},
            )  # fmt: skip
            if response.status_code >= 400:
                refused = (n, response)
                break
            acknowledged.append(response.json()["batch_id"])
        assert refused is not None, "the disk never filled up"
        n, response = refused
        assert response.status_code == 503, response.text
        assert "full" in response.json()["message"]
        filler.unlink()
        retried = exporter.submit_batch("vn-importer", PRODUCT, big, purpose=PURPOSE,
                                        idempotency_key=f"full-{n}")  # fmt: skip
        assert not retried.replayed  # nothing half-written was kept under that key
        again = exporter.submit_batch("vn-importer", PRODUCT, big, purpose=PURPOSE,
                                      idempotency_key=f"full-{n}")  # fmt: skip
        assert again.replayed and again.batch_id == retried.batch_id
        for batch_id in acknowledged:
            assert exporter.get_batch(batch_id).ledger_index is not None
        env.hub.log.verify_log()
        with contextlib.suppress(SilkgateError):
            env.hub.log.checkpoint()
        env.hub.log.verify_log()

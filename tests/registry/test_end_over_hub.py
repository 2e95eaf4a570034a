"""`silkgate agreement end` and `silkgate filing withdraw` over `--hub` (a real
`silkgate serve`, loopback, the SDK signing as the key file's participant) give what they
give on the data directory: the operator ends and withdraws, a retry changes nothing, a
later day is refused, an importer is refused (forbidden)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import orjson
from api.test_serve_e2e import SILKGATE, serving, silkgate

EXPORTER, IMPORTER, OPERATOR = "cn-freight", "vn-carrier", "cn-operator"


def _refused(*args: str, cwd: Path) -> dict[str, str]:
    done = subprocess.run(
        [*SILKGATE, *args, "--json"], cwd=cwd, capture_output=True, timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout.decode()
    refusal: dict[str, str] = orjson.loads(done.stderr)
    return refusal


def test_end_and_withdraw_over_the_hub_as_on_the_data_directory(tmp_path: Path) -> None:
    work, data = tmp_path, tmp_path / "data"
    local = ("--data-dir", str(data))
    silkgate("init", *local, cwd=work)
    for pid, country, role in (
        (EXPORTER, "CN", "exporter"), (IMPORTER, "VN", "importer"), (OPERATOR, "CN", "operator")
    ):  # fmt: skip
        silkgate(
            "participant", "add", "--id", pid, "--name", pid, "--jurisdiction", country,
            "--role", role, "--key-file", str(work / f"{pid}.json"), *local, cwd=work,
        )  # fmt: skip
    for agreement_id in ("agr-local", "agr-remote"):
        silkgate(
            "agreement", "add", "--id", agreement_id, "--exporter", EXPORTER,
            "--importer", IMPORTER, "--product", "logistics.waybill",
            "--purpose", "contract_performance", "--instrument", "contract_necessity",
            "--valid-from", "2026-01-01", *local, cwd=work,
        )  # fmt: skip
    for filing_id in ("fil-local", "fil-remote"):
        silkgate(
            "filing", "add", "--id", filing_id, "--exporter", EXPORTER,
            "--kind", "standard_contract", "--recipient", IMPORTER,
            "--valid-from", "2026-01-01", *local, cwd=work,
        )  # fmt: skip
    end = ("agreement", "end", "--on", "2026-09-30", "--reason", "terminated")
    withdraw = ("filing", "withdraw", "--on", "2026-09-30", "--reason", "withdrawn")
    later = ("--on", "2026-10-01", "--reason", "again")
    on_disk = [
        silkgate(*end, "--id", "agr-local", *local, cwd=work),
        silkgate(*withdraw, "--id", "fil-local", *local, cwd=work),
        silkgate(*end, "--id", "agr-local", *local, cwd=work),  # a retry
        _refused("agreement", "end", "--id", "agr-local", *later, *local, cwd=work),
    ]
    with serving(data, cwd=work) as url:
        as_operator = ("--hub", url, "--key-file", str(work / f"{OPERATOR}.json"))
        as_importer = ("--hub", url, "--key-file", str(work / f"{IMPORTER}.json"))
        forbidden = _refused(*withdraw, "--id", "fil-remote", *as_importer, cwd=work)
        over_hub = [
            silkgate(*end, "--id", "agr-remote", *as_operator, cwd=work),
            silkgate(*withdraw, "--id", "fil-remote", *as_operator, cwd=work),
            silkgate(*end, "--id", "agr-remote", *as_operator, cwd=work),
            _refused("agreement", "end", "--id", "agr-remote", *later, *as_operator, cwd=work),
        ]
    assert forbidden["error"] == "forbidden"
    for mine, theirs in zip(on_disk, over_hub, strict=True):
        if "error" in mine:
            assert mine["error"] == theirs["error"] == "conflict"
            assert mine["message"].replace("agr-local", "X") == theirs["message"].replace(
                "agr-remote", "X"
            )
        else:
            assert {**mine, "id": "X"} == {**theirs, "id": "X"}
            assert mine["valid_until"] == "2026-09-30"

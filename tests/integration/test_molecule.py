"""Every Molecule scenario in molecule/, run as part of the host tests (`make test` ends with one
pytest summary). Each scenario creates and destroys its own hosts, network and mirror."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lablib

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))
LOGS = REPO / ".lab" / "logs"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario: str) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"molecule-{scenario}.log"
    bin_dir = str(Path(sys.executable).parent)
    env = {**lablib.podman_env(), "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "ANSIBLE_FORCE_COLOR": "0",
           "PY_COLORS": "0", "NO_COLOR": "1"}
    command = [f"{bin_dir}/molecule", "--base-config", "molecule/config.yml", "test", "--scenario-name", scenario]
    try:
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
                                check=False)
    finally:
        # destroy is the scenario's last step; this catches what a failed or interrupted run leaves.
        lablib.remove_project_resources(f"molecule-{scenario}")
    log.write_text(result.stdout + result.stderr)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-120:])
    assert result.returncode == 0, f"molecule test -s {scenario} failed (full log: {log}):\n{tail}"

"""testinfra host list for Molecule scenarios: the platforms' containers through testinfra's podman
backend (`podman exec`), which is many times faster than Molecule's default of one ansible run per
command. Podman finds the project's containers.conf through CONTAINERS_CONF (set in config.yml).
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml


def podman_hosts() -> list[str]:
    """podman://<container> for every platform of the scenario Molecule is verifying."""
    molecule_file = os.environ.get("MOLECULE_FILE")
    if not molecule_file:
        raise RuntimeError("MOLECULE_FILE is not set: run these tests through `molecule verify`")
    config = yaml.safe_load(Path(molecule_file).read_text())
    return [f"podman://{platform['name']}" for platform in config.get("platforms", [])]

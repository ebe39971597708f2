"""Session fixtures for the tests that run inside lab hosts (marker `hosts`).

One lab per Debian release (the `lab` fixture is parametrized, so every test runs on Debian 12 and on
Debian 13): a normal network with the mirror, a server, an agent and a "stranger" host, and an
`--internal` network (no route out) with the mirror and an airgapped host. Everything is labelled
with the run id (env EDGEFLEET_RUN_ID, set by the Makefile, else one per pytest process) and removed
when the lab's tests are done, whether they passed or not.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))
import lablib  # noqa: E402  (lives in tests/lab, shared with the Makefile and Molecule)

DISTROS = ("debian12", "debian13")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this directory needs podman, the host images and the mirror."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.hosts)


def run_id() -> str:
    return os.environ.get("EDGEFLEET_RUN_ID") or f"pytest{os.getpid()}"


@dataclass
class Lab:
    distro: str
    network: str
    airgap_network: str
    mirror: str
    hosts: dict[str, lablib.Host]

    @property
    def server(self) -> lablib.Host:
        return self.hosts["server"]

    @property
    def agent(self) -> lablib.Host:
        return self.hosts["agent"]

    @property
    def stranger(self) -> lablib.Host:
        return self.hosts["stranger"]

    @property
    def airgap(self) -> lablib.Host:
        return self.hosts["airgap"]


@pytest.fixture(scope="session")
def lab_prerequisites() -> None:
    """Host images and the mirror tree (both skip work already done)."""
    lablib.ensure_images(DISTROS)
    lablib.build_mirror()


@pytest.fixture(scope="session", params=DISTROS)
def lab(request: pytest.FixtureRequest, lab_prerequisites: None) -> Iterator[Lab]:
    distro = request.param
    rid = run_id()
    prefix = f"ef-{rid}-{distro}"
    try:
        network = lablib.create_network(prefix, rid)
        airgap_network = lablib.create_network(f"{prefix}-air", rid, internal=True)
        mirror = lablib.start_mirror(f"{prefix}-mirror", [network, airgap_network], rid)
        hosts = lablib.start_hosts([(f"{prefix}-{role}", role) for role in ("server", "agent", "stranger")],
                                   distro, network, rid)
        hosts += lablib.start_hosts([(f"{prefix}-airgap", "airgap")], distro, airgap_network, rid)
        yield Lab(distro, network, airgap_network, mirror, {h.hostname: h for h in hosts})
    finally:
        lablib.remove_project_resources(rid, name_prefix=prefix)

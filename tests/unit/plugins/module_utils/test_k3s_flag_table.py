"""The generated flag table must match the K3s reference it was generated from."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from ansible_collections.edgefleet.k3s.plugins.module_utils import _k3s_flag_table as table
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_flags import DEFAULT_TABLE

REPO = Path(__file__).resolve().parents[4]
REFERENCE = REPO.parent / "shared" / "reference" / "k3s" / "k3s_flags.json"
GENERATOR = REPO / "tests" / "tools" / "gen_flag_table.py"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_flag_table", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference():
    if not REFERENCE.is_file():
        pytest.skip(f"reference flag table not found at {REFERENCE}")
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def test_generated_module_is_current(reference):
    generator = _generator()
    expected = generator.render_module(generator.build_table(reference))
    assert (REPO / "plugins" / "module_utils" / "_k3s_flag_table.py").read_text(encoding="utf-8") == expected, \
        "run tests/tools/gen_flag_table.py"


def test_every_reference_flag_and_alias_is_known(reference):
    for command in ("server", "agent", "etcd-snapshot"):
        for flag in reference[command]:
            for spelling in [flag["name"]] + flag["aliases"]:
                assert DEFAULT_TABLE.lookup(command, spelling).name == flag["name"]
                assert DEFAULT_TABLE.lookup(command, spelling).kind == flag["type"]


def test_role_lists_match_reference(reference):
    assert set(table.SERVER_ONLY) == set(reference["server_only_flags"])
    server = {f["name"] for f in reference["server"]}
    agent = {f["name"] for f in reference["agent"]}
    assert set(table.SERVER_ONLY) == server - agent
    assert set(table.AGENT_ONLY) == agent - server
    assert set(table.REMOVED) == set(reference["not_defined_in_this_version"]["flags"])


def test_table_covers_the_supported_lines():
    assert DEFAULT_TABLE.minors == ("1.32", "1.33", "1.34")

"""The YAML writer: K3s (YAML 1.1) must read back exactly the values written."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_yaml import render

TRICKY = ["yes", "no", "on", "0644", "1_000", "0x10", "~", "null", "1e3", ".inf", "2026-01-01", "a: b", "#x",
          "- x", "'q'", '"dq"', "back\\slash", "tab\there", "new\nline", "\x01ctl", "ünï", "\u2028", "", " pad "]


@pytest.mark.parametrize("text", TRICKY)
def test_strings_round_trip_through_yaml_1_1(text):
    # PyYAML implements YAML 1.1 like gopkg.in/yaml.v2.
    assert yaml.safe_load(render({"node-name": text})) == {"node-name": text}


def test_lists_booleans_ints_and_append_keys():
    config = {"node-label+": ["a=1"], "selinux": False, "v": 3, "disable": []}
    assert render(config) == 'node-label+:\n  - "a=1"\nselinux: false\nv: 3\ndisable: []\n'
    assert yaml.safe_load(render(config)) == config


def test_empty_config():
    assert render({}) == "{}\n"


def test_unsupported_type():
    with pytest.raises(TypeError):
        render({"x": 1.5})

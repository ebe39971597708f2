"""The module run without its action plugin (on a target) performs the same checks."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.edgefleet.k3s.plugins.modules import k3s_validate


def _main(args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit):
        k3s_validate.main()
    return json.loads(capsys.readouterr().out)


def test_module_success(capsys):
    result = _main({"version": "v1.34.3+k3s1", "server_url": "10.0.0.10"}, capsys)
    assert not result.get("failed")
    assert result["server_url"] == "https://10.0.0.10:6443"


def test_module_failure_hides_token(capsys):
    result = _main({"version": "1.34.3+k3s1", "token": "K10abc", "inventory_hostname": "edge-9"}, capsys)
    assert result["failed"] is True
    assert "host 'edge-9' have 2 problems" in result["msg"]
    assert "K10abc" not in json.dumps(result)

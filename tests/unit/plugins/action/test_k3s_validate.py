"""The action plugin: runs on the controller, never touches the connection, fails once with every problem."""

from __future__ import annotations

import typing as t
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.edgefleet.k3s.plugins.action.k3s_validate import ActionModule

TOKEN = "s3cr+t/%*$'\" \\"


def _action(args: t.Dict[str, t.Any], check_mode: bool = False) -> t.Tuple[ActionModule, MagicMock]:
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.action = "edgefleet.k3s.k3s_validate"
    connection = MagicMock()
    connection._shell.tmpdir = None
    action = ActionModule(task=task, connection=connection, play_context=MagicMock(), loader=MagicMock(),
                          templar=MagicMock(), shared_loader_obj=MagicMock())
    return action, connection


def _run(args: t.Dict[str, t.Any], task_vars: t.Optional[t.Dict[str, t.Any]] = None, **kwargs: t.Any):
    action, connection = _action(args, **kwargs)
    result = action.run(task_vars=task_vars or {"inventory_hostname": "edge-1"})
    # The host is never contacted: no command, no file transfer, no temp dir.
    assert not connection.exec_command.called
    assert not connection.put_file.called
    return result


def test_valid_settings_pass_without_change():
    result = _run({"version": "v1.34.3+k3s1", "role": "agent", "server_url": "10.0.0.10", "token": TOKEN,
                   "config": {"node-label": ["site=berlin"]}})
    assert not result.get("failed")
    assert result["changed"] is False
    assert result["server_url"] == "https://10.0.0.10:6443"
    assert result["config_yaml"] == 'node-label:\n  - "site=berlin"\n'
    assert result["msg"] == "K3s settings of host 'edge-1' are valid"


def test_all_problems_in_one_failure_naming_the_host():
    result = _run({"version": "1.34.3+k3s1", "role": "agent", "server_url": "http://10.0.0.10",
                   "token": TOKEN, "config": {"cluster-init": True, "selinux": "yes"}})
    assert result["failed"] is True
    assert result["msg"].startswith("K3s settings of host 'edge-1' have 4 problems:\n- k3s_version:")
    assert len(result["problems"]) == 4
    assert TOKEN not in repr(result)


def test_check_mode_runs_the_same_checks():
    result = _run({"version": "1.34.3+k3s1"}, check_mode=True)
    assert result["failed"] is True


def test_host_variables_default_to_task_vars():
    task_vars = {"inventory_hostname": "edge-2", "k3s_verison": "v1.33.5+k3s1", "k3s_version": "v1.34.3+k3s1",
                 "ansible_host": "192.0.2.7"}
    result = _run({"known_variables": ["k3s_version"]}, task_vars=task_vars)
    assert result["failed"] is True
    assert result["problems"] == ["k3s_verison: is not a variable of edgefleet.k3s, so it has no effect. "
                                  "Did you mean 'k3s_version'?"]
    assert "host 'edge-2'" in result["msg"]


def test_explicit_inventory_hostname_wins():
    result = _run({"version": "", "inventory_hostname": "named"})
    assert "host 'named'" in result["msg"]


def test_warnings_are_returned():
    result = _run({"role": "agent", "server_url": "10.0.0.10", "token": "short"})
    assert not result.get("failed")
    assert any("has no CA hash" in w for w in result["warnings"])


def test_config_requires_role():
    with pytest.raises(AnsibleActionFail, match="role"):
        _run({"config": {"selinux": True}})


def test_unknown_parameter_is_refused():
    with pytest.raises(AnsibleActionFail, match="nosuch"):
        _run({"nosuch": 1})

# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Entry point of the edgefleet.k3s.k3s_validate checks: argument spec, run every check, shape the result.

Runs on the controller inside the k3s_validate action plugin (no connection to the host). The module
plugins/modules/k3s_validate.py calls the same code on the target only if someone runs the module
without its action plugin, which is why everything here stays importable on Python 3.8.

Private to edgefleet.k3s: roles use the module, not this file.
"""

from __future__ import annotations

import typing as t

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_config import (
    ConfigChecker, check_dropin_names, default_managed_keys, mask_secrets,
)
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import Findings
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_flags import DEFAULT_TABLE
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_labels import check_labels, check_taints
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_network import check_cluster_networks
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_token import check_token
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_url import check_server_url
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_variables import DEFAULT_PREFIXES, check_variables
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_version import (
    check_supported_minors, check_version,
)
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_yaml import render

# Messages name the user's variable, not the module parameter; roles override these when their
# variables are called differently (e.g. k3s_server_config).
DEFAULT_VARIABLE_NAMES = {
    "version": "k3s_version",
    "config": "k3s_config",
    "config_dropins": "k3s_config_dropins",
    "token": "k3s_token",
    "agent_token": "k3s_agent_token",
    "server_url": "k3s_server_url",
    "node_labels": "k3s_node_labels",
    "node_taints": "k3s_node_taints",
    "host_networks": "k3s_host_networks",
    "supported_minors": "k3s_supported_minors",
}

# User input is taken as `raw` so that a wrong type becomes one of the collected, variable-named
# messages instead of the generic argument-spec error that stops at the first mistake.
ARGUMENT_SPEC: t.Dict[str, t.Dict[str, t.Any]] = {
    "version": {"type": "raw"},
    "supported_minors": {"type": "raw"},
    "role": {"type": "str", "choices": ["server", "agent"]},
    "config": {"type": "raw"},
    "config_dropins": {"type": "raw"},
    "managed_keys": {"type": "dict", "no_log": False},
    "token": {"type": "raw", "no_log": True},
    "agent_token": {"type": "raw", "no_log": True},
    "server_url": {"type": "raw"},
    "node_labels": {"type": "raw"},
    "node_taints": {"type": "raw"},
    "host_networks": {"type": "raw"},
    "known_variables": {"type": "list", "elements": "str"},
    "variable_prefixes": {"type": "list", "elements": "str", "default": list(DEFAULT_PREFIXES)},
    "host_variables": {"type": "list", "elements": "str"},
    "strict_variables": {"type": "bool", "default": True},
    "variable_names": {"type": "dict"},
    "inventory_hostname": {"type": "str"},
}
REQUIRED_BY = {"config": ["role"], "config_dropins": ["role"]}


class Report(t.NamedTuple):
    problems: t.List[str]
    warnings: t.List[str]
    values: t.Dict[str, t.Any]


def _variable_names(overrides: t.Any, findings: Findings) -> t.Dict[str, str]:
    names = dict(DEFAULT_VARIABLE_NAMES)
    for key, value in (overrides or {}).items():
        if key not in names or not isinstance(value, str) or not value:
            findings.problem("variable_names", f"'{key}' -> '{value}' is not a parameter -> variable name pair",
                             f"Use keys among {', '.join(sorted(names))}")
            continue
        names[key] = value
    return names


def _managed_keys(overrides: t.Any, names: t.Mapping[str, str]) -> t.Dict[str, str]:
    """Default managed keys, extended or (with a null value) released by the calling role."""
    managed = default_managed_keys(names)
    for key, message in (overrides or {}).items():
        flag = DEFAULT_TABLE.lookup_any_role(key)
        name = flag.name if flag else key
        if message is None:
            managed.pop(name, None)
        else:
            managed[name] = str(message)
    return managed


def _check_config(params: t.Mapping[str, t.Any], names: t.Mapping[str, str], version: t.Any,
                  findings: Findings) -> t.Dict[str, t.Any]:
    checker = ConfigChecker(findings, params.get("role"), version,
                            _managed_keys(params.get("managed_keys"), names), token_variable=names["token"])
    base = checker.check_file(names["config"], params.get("config"))
    dropins = [(file_name, label, checker.check_file(label, content))
               for file_name, label, content in check_dropin_names(params.get("config_dropins"),
                                                                   names["config_dropins"], findings)]
    checker.report_two_forms()
    effective, sources = checker.merge([(names["config"], base)] + [(label, data) for _f, label, data in dropins])
    masked_dropins = {file_name: mask_secrets(data) for file_name, _label, data in dropins}
    return {
        "config": mask_secrets(base),
        "config_yaml": render(mask_secrets(base)),
        "config_dropins": masked_dropins,
        "config_dropins_yaml": {file_name: render(data) for file_name, data in masked_dropins.items()},
        "effective_config": mask_secrets(effective),
        "_effective": effective,
        "_sources": sources,
    }


def validate(params: t.Mapping[str, t.Any]) -> Report:
    """Run every check whose input is present; collect all problems instead of stopping at the first."""
    findings = Findings()
    names = _variable_names(params.get("variable_names"), findings)
    role = params.get("role")
    values: t.Dict[str, t.Any] = {}

    minors = DEFAULT_TABLE.minors
    if params.get("supported_minors") is not None:
        given = params["supported_minors"]
        minors = tuple(check_supported_minors(given if isinstance(given, (list, tuple)) else [given],
                                              names["supported_minors"], findings))
    version = None
    if params.get("version") is not None:
        version = check_version(params["version"], names["version"], minors, findings)
        if version is not None and not DEFAULT_TABLE.covers(version.minor_line):
            findings.warn(names["version"], f"the flag table covers K3s {', '.join(DEFAULT_TABLE.minors)}; "
                          f"{version} is checked against it", "Regenerate the table when a new line is supported")
    values["version"] = str(version) if version else None
    values["version_info"] = version.as_dict() if version else None

    server_url = check_server_url(params.get("server_url"), names["server_url"], role, findings)
    if role == "agent" and params.get("server_url") is None:
        findings.problem(names["server_url"], "is not set, but an agent must join a server",
                         "Set it to the address of a server, e.g. 'https://10.0.0.10:6443'")
    values["server_url"] = server_url

    joining = params.get("server_url") is not None
    token = check_token(params.get("token"), names["token"], role, joining, findings)
    agent_token = check_token(params.get("agent_token"), names["agent_token"], None, False, findings)
    values["token_kind"] = token.kind if token else None
    values["token_ca_hash"] = token.ca_hash if token else None
    values["agent_token_kind"] = agent_token.kind if agent_token else None

    config = _check_config(params, names, version, findings)
    effective, sources = config.pop("_effective"), config.pop("_sources")
    values.update(config)

    values["node_labels"] = check_labels(params.get("node_labels"), names["node_labels"], findings)
    values["node_taints"] = check_taints(params.get("node_taints"), names["node_taints"], findings)

    networks = check_cluster_networks(effective, sources, params.get("host_networks"), names["host_networks"],
                                      role, findings)
    values.update(networks._asdict())

    values["unknown_variables"] = check_variables(
        params.get("host_variables"), params.get("known_variables"),
        params.get("variable_prefixes") or DEFAULT_PREFIXES, params.get("strict_variables", True), findings)
    return Report(findings.problems, findings.warnings, values)


def failure_message(problems: t.Sequence[str], host: t.Optional[str]) -> str:
    where = f" of host '{host}'" if host else ""
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return f"K3s settings{where} have {count}:\n" + "\n".join(f"- {p}" for p in problems)


def to_result(report: Report, host: t.Optional[str]) -> t.Dict[str, t.Any]:
    """Task result: never changed (nothing is touched), failed when any problem was found."""
    result: t.Dict[str, t.Any] = dict(report.values)
    result.update(changed=False, problems=list(report.problems), warnings=list(report.warnings))
    if report.problems:
        result.update(failed=True, msg=failure_message(report.problems, host))
    else:
        where = f" of host '{host}'" if host else ""
        result["msg"] = f"K3s settings{where} are valid"
    return result

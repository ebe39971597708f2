# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: k3s_config_yaml
short_description: Render a K3s config mapping as the YAML K3s reads
version_added: 0.1.0
author:
  - edgefleet maintainers (@edgefleet)
description:
  - Renders a mapping of K3s flags for C(/etc/rancher/k3s/config.yaml) or a C(config.yaml.d/) drop-in.
  - Every string is double-quoted, so that YAML 1.1 (which K3s uses) cannot turn V(yes), V(0644) or V(1_000)
    into something else; booleans are written as C(true)/C(false); aliases become long flag names.
  - Values are typed as K3s parses them; a value K3s would reject (for example V(yes) for a boolean flag or
    a duration without unit) fails the filter. Full checks with helpful messages are the job of
    M(edgefleet.k3s.k3s_validate); run it first.
  - The output contains credentials given in the config (for example C(etcd-s3-secret-key)); use it only in
    tasks with C(no_log).
options:
  _input:
    description: Mapping of flag name (or alias, or C(name+)) to value.
    type: dict
    required: true
  role:
    description:
      - V(server) or V(agent) to accept only that command's flags; by default flags of either are accepted.
    type: str
    choices: [server, agent]
"""

EXAMPLES = r"""
- name: Write the K3s config file
  ansible.builtin.copy:
    content: "{{ k3s_config | edgefleet.k3s.k3s_config_yaml(role='agent') }}"
    dest: /etc/rancher/k3s/config.yaml
    owner: root
    group: root
    mode: "0600"
  no_log: true
"""

RETURN = r"""
_value:
  description: YAML text ending in a newline.
  type: str
"""

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_config import ConfigChecker
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_findings import Findings
from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_yaml import render


def k3s_config_yaml(config: t.Any, role: t.Optional[str] = None) -> str:
    if not isinstance(config, t.Mapping):
        raise AnsibleFilterError(f"edgefleet.k3s.k3s_config_yaml: the input must be a mapping of K3s flags, "
                                 f"not {type(config).__name__}")
    if role not in (None, "server", "agent"):
        raise AnsibleFilterError(f"edgefleet.k3s.k3s_config_yaml: role must be 'server' or 'agent', not '{role}'")
    findings = Findings()
    checker = ConfigChecker(findings, role)
    normalised = checker.check_file("config", config)
    checker.report_two_forms()
    if findings.problems:
        raise AnsibleFilterError("edgefleet.k3s.k3s_config_yaml: K3s would not accept this config:\n"
                                 + "\n".join(f"- {p}" for p in findings.problems))
    return render(normalised)


class FilterModule:
    """K3s config rendering."""

    def filters(self) -> t.Dict[str, t.Callable[..., t.Any]]:
        return {"k3s_config_yaml": k3s_config_yaml}

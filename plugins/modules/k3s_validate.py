#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k3s_validate
short_description: Check K3s settings of a host before anything is installed
version_added: 0.1.0
author:
  - edgefleet maintainers (@edgefleet)
description:
  - Checks the K3s settings the collection's roles are about to use, on the controller, without contacting
    the host, and reports B(all) problems of the host at once, each naming the variable, what is wrong and
    how to fix it.
  - Checks the K3s version tag; the K3s config (C(config.yaml) and C(config.yaml.d/) drop-ins) against the
    flags K3s defines for the role and version, including value types K3s would reject at start-up
    (Go booleans, integers, durations, an unquoted C(write-kubeconfig-mode)); the join token's shape;
    the server URL; pod and service ranges; node labels and taints; and variables that look like the
    collection's but that no role reads.
  - Returns the values normalised (server URL, config rendered as the YAML K3s reads) with secrets masked.
    Write the config file itself with the P(edgefleet.k3s.k3s_config_yaml#filter) filter in a C(no_log) task.
  - Keys the collection sets itself are refused in O(config) and O(config_dropins) by default, see
    O(managed_keys).
extends_documentation_fragment:
  - edgefleet.k3s._attributes
  - edgefleet.k3s._attributes.READ_ONLY
  - edgefleet.k3s._attributes.CONTROLLER_ACTION
  - edgefleet.k3s._attributes.ACTION_GROUP
options:
  version:
    description:
      - K3s release tag to install, V(v<major>.<minor>.<patch>[-rc<N>]+k3s<N>), for example V(v1.34.3+k3s1).
      - The flag checks of O(config) use the flags of this version.
    type: raw
  supported_minors:
    description:
      - Release lines the collection supports, such as V(1.34). Defaults to the lines the flag table covers
        (1.32, 1.33, 1.34).
    type: raw
  role:
    description:
      - Whether the host runs C(k3s server) or C(k3s agent). Required with O(config) or O(config_dropins).
    type: str
    choices: [server, agent]
  config:
    description:
      - Flags for C(/etc/rancher/k3s/config.yaml), as a mapping of flag name (or alias, or C(name+) to append)
        to value.
    type: raw
  config_dropins:
    description:
      - Drop-in files for C(/etc/rancher/k3s/config.yaml.d/), as a mapping of file name to a mapping like
        O(config). C(.yaml) is appended to names without C(.yaml) or C(.yml). K3s reads them in byte order of
        the name, after O(config).
    type: raw
  managed_keys:
    description:
      - Config keys the collection sets itself, mapped to the message that tells the user what to set instead.
        Merged over the defaults C(token), C(token-file), C(agent-token), C(agent-token-file), C(server) and
        C(config); a null value allows a default key again.
    type: dict
  token:
    description:
      - The cluster join token. Never shown in messages or results. Any character is accepted, as the
        collection writes the token only into a C(0600) file.
    type: raw
  agent_token:
    description:
      - The agent join token (C(agent-token)) of a server. Never shown in messages or results.
    type: raw
  server_url:
    description:
      - Server a node joins. V(host), V(host:port), V(https://host), V(https://host:6443/) and V([fd00::1]:6443)
        are accepted and returned as RV(server_url). Required when O(role=agent).
    type: raw
  node_labels:
    description:
      - Node labels, a list of V(key=value) or a mapping.
    type: raw
  node_taints:
    description:
      - Node taints, a list of V(key[=value]:Effect).
    type: raw
  host_networks:
    description:
      - Networks the host is attached to, as CIDRs (an interface address such as V(192.168.1.10/24) stands for
        its subnet). On a server, the pod and service ranges must not overlap them.
    type: raw
  known_variables:
    description:
      - Every variable name the collection's roles read (from their argument specs). Without it the variable
        check is skipped.
      - Pass the names of all roles of the collection, not only the calling role, so that shared group
        variables are not reported.
    type: list
    elements: str
  variable_prefixes:
    description:
      - Names defined for the host that start with one of these prefixes (in any case) must be in
        O(known_variables).
    type: list
    elements: str
    default: [k3s_, edgefleet_]
  host_variables:
    description:
      - Names of the variables defined for the host. The action plugin defaults to every variable the task
        sees.
    type: list
    elements: str
  strict_variables:
    description:
      - Whether unknown prefixed variables are problems (V(true)) or only warnings (V(false)).
    type: bool
    default: true
  variable_names:
    description:
      - Names of the user variables behind the parameters, used in messages. For example, mapping C(config)
        to C(k3s_server_config) makes messages say C(k3s_server_config['tls-san']). Keys are parameter names
        among C(version), C(config),
        C(config_dropins), C(token), C(agent_token), C(server_url), C(node_labels), C(node_taints),
        C(host_networks), C(supported_minors).
    type: dict
  inventory_hostname:
    description:
      - Host named in the failure message. The action plugin defaults to the host the task runs for.
    type: str
notes:
  - The action plugin runs every check on the controller and never contacts the host. Run without it, the
    module performs the same checks on the target (Python 3.8 or later).
seealso:
  - plugin: edgefleet.k3s.k3s_config_yaml
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check the K3s settings of this host
  edgefleet.k3s.k3s_validate:
    version: "{{ k3s_version }}"
    role: agent
    config: "{{ k3s_config }}"
    token: "{{ k3s_token }}"
    server_url: "{{ k3s_server_url }}"
    node_labels: "{{ k3s_node_labels }}"
    known_variables: "{{ _k3s_known_variables }}"
  register: _k3s_validated

- name: Use the normalised server URL
  ansible.builtin.debug:
    msg: "Joining {{ _k3s_validated.server_url }}"

- name: Check a server whose variables have their own names
  edgefleet.k3s.k3s_validate:
    version: "{{ k3s_version }}"
    role: server
    config: "{{ k3s_server_config }}"
    config_dropins:
      50-etcd-s3: "{{ k3s_server_etcd_s3 }}"
    host_networks: "{{ ansible_facts['all_ipv4_addresses'] }}"
    variable_names:
      config: k3s_server_config
"""

RETURN = r"""
msg:
  description: Summary; on failure one line per problem.
  returned: always
  type: str
problems:
  description: Each problem found, as C(<variable>) colon C(<what is wrong>). C(<fix>).
  returned: always
  type: list
  elements: str
  sample: ["k3s_version: '1.34.3+k3s1' has no leading 'v'. Use 'v1.34.3+k3s1'"]
version:
  description: The K3s release tag, when O(version) was valid.
  returned: always
  type: str
  sample: v1.34.3+k3s1
version_info:
  description: Parts of RV(version) (C(major), C(minor), C(patch), C(rc), C(build), C(minor_line)).
  returned: always
  type: dict
server_url:
  description: O(server_url) normalised to C(https://<host>:<port>); null when not given or invalid.
  returned: always
  type: str
  sample: https://10.0.0.10:6443
token_kind:
  description: Shape of O(token) (C(short), C(secure), C(bootstrap), C(secure-bootstrap)); the token itself is
    never returned.
  returned: always
  type: str
token_ca_hash:
  description: The cluster CA hash inside a secure O(token) (public, not a secret).
  returned: always
  type: str
agent_token_kind:
  description: Shape of O(agent_token).
  returned: always
  type: str
config:
  description: O(config) as K3s will read it (aliases replaced by long names, values typed as K3s parses them,
    list flags as lists), credentials masked.
  returned: always
  type: dict
config_yaml:
  description: RV(config) rendered as YAML with every string quoted, credentials masked.
  returned: always
  type: str
  sample: "node-label:\n  - \"site=berlin\"\nselinux: true\n"
config_dropins:
  description: Each drop-in like RV(config), keyed by its file name (with C(.yaml)).
  returned: always
  type: dict
config_dropins_yaml:
  description: Each drop-in like RV(config_yaml), keyed by its file name.
  returned: always
  type: dict
effective_config:
  description: All files merged in K3s order (C(key+) appended), credentials masked.
  returned: always
  type: dict
node_labels:
  description: O(node_labels) as C(key=value) strings.
  returned: always
  type: list
  elements: str
node_taints:
  description: O(node_taints) normalised.
  returned: always
  type: list
  elements: str
cluster_cidr:
  description: Pod ranges a server will use (its config or the K3s default); empty on agents.
  returned: always
  type: list
  elements: str
service_cidr:
  description: Service ranges a server will use; empty on agents.
  returned: always
  type: list
  elements: str
cluster_dns:
  description: Cluster DNS addresses a server will use; empty on agents.
  returned: always
  type: list
  elements: str
unknown_variables:
  description: Prefixed variable names no role reads.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_validate import (
    ARGUMENT_SPEC, REQUIRED_BY, to_result, validate,
)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_by=REQUIRED_BY, supports_check_mode=True)
    result = to_result(validate(module.params), module.params.get("inventory_hostname"))
    if result.get("failed"):
        result.pop("failed")
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

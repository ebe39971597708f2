# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of edgefleet.k3s.k3s_validate: runs every check on the controller.

Nothing here needs the host, so the action never opens a connection: a preflight must also work when the
host is unreachable, in check mode on a fresh machine, and before Python is there.
"""

from __future__ import annotations

import typing as t

from ansible.plugins.action import ActionBase

from ansible_collections.edgefleet.k3s.plugins.module_utils._k3s_validate import (
    ARGUMENT_SPEC, REQUIRED_BY, to_result, validate,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: t.Optional[str] = None, task_vars: t.Optional[t.Dict[str, t.Any]] = None) -> t.Dict[str, t.Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp

        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC, required_by=REQUIRED_BY)
        if params.get("host_variables") is None and params.get("known_variables"):
            # Everything the task sees: inventory, group/host vars, play vars, extra vars. Role defaults are in
            # there too, but those are the collection's own names and therefore known.
            params["host_variables"] = [name for name in task_vars if isinstance(name, str)]
        host = params.get("inventory_hostname") or task_vars.get("inventory_hostname")
        result.update(to_result(validate(params), str(host) if host else None))
        return result

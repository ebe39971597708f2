# -*- coding: utf-8 -*-
# Copyright: edgefleet maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE to edgefleet.k3s: the wording may change at any time; other collections must not use it.

from __future__ import annotations


class ModuleDocFragment:
    """Shared wording of the `attributes` section of edgefleet.k3s modules."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return a prediction of C(changed) without modifying the target.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) when run in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode with the same arguments, the second run reports no change.
"""

    # Use together with DOCUMENTATION: for modules that only read or check and never change anything.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - Nothing is modified, so check mode runs the same checks.
  diff_mode:
    support: N/A
    details:
      - Nothing is modified, so there is no diff.
  idempotent:
    support: full
"""

    # Use together with DOCUMENTATION for modules whose work happens in an action plugin on the controller.
    CONTROLLER_ACTION = r"""
options: {}
attributes:
  action:
    description: Has a corresponding action plugin, so the work runs on the controller.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
    support: none
"""

    ACTION_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/edgefleet.k3s.k3s) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - edgefleet.k3s.k3s
"""

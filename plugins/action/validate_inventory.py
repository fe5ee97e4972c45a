# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin behind diskless.datacenter.validate_inventory: runs on the controller only."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.diskless.datacenter.plugins.plugin_utils._hostvars import model_input
from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory import build_model
from ansible_collections.diskless.datacenter.plugins.plugin_utils._inventory_values import InventoryError


class ActionModule(ActionBase):  # type: ignore[misc]  # ansible-core ships no type information: ActionBase is Any
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        if self._task.args:
            return {**result, "failed": True, "msg": f"validate_inventory takes no options, got: {', '.join(sorted(self._task.args))}"}
        plain_vars, plain_groups = model_input(task_vars["hostvars"], task_vars["groups"])
        try:
            model = build_model(plain_vars, plain_groups)
        except InventoryError as exc:
            return {**result, "failed": True, "msg": str(exc), "problems": exc.problems}
        counts = {group: len(members) for group, members in model["groups"].items()}
        summary = ", ".join(f"{count} {group}" for group, count in counts.items())
        return {**result, "changed": False, "model": model, "msg": f"inventory is valid: {len(model['vlans'])} VLANs, {summary}"}

"""`GET /api/kernelspecs` with each project's model encoded once, not on every listing.

jupyter_server encodes the whole answer on every call: at 5000 projects that is 4 MB of JSON and
70 ms of the event loop, each time a front end polls. This handler gives the same answer, with
the JSON text of each project's model kept by the spec manager (a project unchanged since the
last scan keeps its text). Installed specs (python3, a user's own) go through jupyter_server's
`kernelspec_model`, as there. With another spec manager (a gateway, a user's choice) it is
jupyter_server's handler, unchanged.
"""

from __future__ import annotations

import asyncio
import json

from jupyter_server.auth.decorator import authorized
from jupyter_server.services.kernelspecs.handlers import (
    MainKernelSpecHandler,
    is_kernelspec_model,
    kernelspec_model,
)
from tornado import web

from .kernelspecs import EnvlockKernelSpecManager, ProjectModel

ROUTE = r"/api/kernelspecs"


class KernelSpecsHandler(MainKernelSpecHandler):
    """jupyter_server's listing, with the project models' JSON reused (same auth resource)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        ksm = self.kernel_spec_manager
        if not isinstance(ksm, EnvlockKernelSpecManager):
            answer = super().get()
            if answer is not None:
                await answer
            return
        specs = ksm.get_all_specs()
        projects = ksm.project_models()  # the snapshot get_all_specs read, unless one just came
        members: list[str] = []
        shown: list[ProjectModel] = []
        for name, info in specs.items():
            built = projects.get(name)
            if built is not None and built.model is info and is_kernelspec_model(info):
                shown.append(built)
                continue
            try:
                members.append(f"{json.dumps(name)}: {json.dumps(await self._model(name, info))}")
            except Exception:
                self.log.error("Failed to load kernel spec: '%s'", name, exc_info=True)
        if shown and len(shown) == len(projects):  # every project: joined once per scan
            members.append(ksm.json_members(projects))
        else:  # some are hidden (allowed_kernelspecs, an installed spec of the same name)
            members += [built.json_member for built in shown]
        default = json.dumps(self.kernel_manager.default_kernel_name)
        self.set_header("Content-Type", "application/json")
        self.finish(f'{{"default": {default}, "kernelspecs": {{{", ".join(members)}}}}}')

    async def _model(self, name: str, info: dict) -> dict:
        """An installed spec's model, as jupyter_server builds it (its logos found on disk)."""
        if is_kernelspec_model(info):
            return info
        return await asyncio.to_thread(
            kernelspec_model, self, name, info["spec"], info["resource_dir"]
        )

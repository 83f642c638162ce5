"""The jupyter_kernel_test protocol suite against a project kernel.

The kernel is resolved the way any client resolves it: by name, through a spec that
`jupyter envlock kernels install` wrote into a prefix on JUPYTER_PATH, started by jupyter_client's
own KernelManager (so the provisioner, the bootstrap and the %dep extension are all in the path).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jupyter_kernel_test
import pytest
from jupyter_client.manager import start_new_kernel
from kernel_support import KernelWorld
from support.isolation import isolate

from jupyter_envlock import cli

pytestmark = pytest.mark.slow


class TestProjectKernel(jupyter_kernel_test.KernelTests):
    kernel_name = "envlock-shared-demo"
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]
    code_page_something = "zip?"
    code_generate_error = "raise ValueError('boom')"
    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
    ]
    code_display_data = [
        {
            "code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
            "mime": "text/html",
        },
        {
            "code": "from IPython.display import Math, display; display(Math('\\\\frac{1}{2}'))",
            "mime": "text/latex",
        },
    ]
    code_history_pattern = "1?2*"
    # "range" left out as for plain ipykernel: IPython answers the current session as 0.
    supported_history_operations = ("tail", "search")
    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"

    @classmethod
    def setUpClass(cls) -> None:
        """Started by the fixture below, once the offline settings are in place."""

    @classmethod
    def tearDownClass(cls) -> None:
        """Stopped by the fixture below."""

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _project_kernel(
        cls,
        request: pytest.FixtureRequest,
        kernel_world: KernelWorld,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[None]:
        prefix = tmp_path_factory.mktemp("conformance-prefix")
        with pytest.MonkeyPatch.context() as mp:
            isolate(mp, kernel_world.settings)
            install = ["kernels", "install", "--project", str(kernel_world.project)]
            assert cli.main([*install, "--prefix", str(prefix), "--quiet"]) == 0
            mp.setenv("JUPYTER_PATH", str(Path(prefix) / "share" / "jupyter"))
            cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, startup_timeout=120)
            try:
                yield
            finally:
                cls.kc.stop_channels()
                cls.km.shutdown_kernel(now=True)

    def test_runs_in_the_project_env(self) -> None:
        self.flush_channels()
        reply, outputs = self.execute_helper(code="import sys, tinya; print(sys.prefix)")
        self.assertEqual(reply["content"]["status"], "ok")
        prefix = "".join(m["content"].get("text", "") for m in outputs).strip()
        self.assertIn("envlock-cache", prefix)

    def test_dep_magic_is_loaded(self) -> None:
        self.flush_channels()
        reply, outputs = self.execute_helper(code="%dep --help")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("%dep add SPEC", "".join(m["content"].get("text", "") for m in outputs))

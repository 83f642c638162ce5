"""Start ipykernel inside a project env, with the %dep magics loaded.

Run as `<env python> bootstrap.py -f CONNECTION_FILE [ipykernel options]`. Python puts this folder
first on sys.path for this process only, which is how the `envlock_kernel` package imports without
installing jupyter_envlock into the env; the folder is taken off sys.path again once the package
is imported (its submodules load later from the package's own `__path__`), so the user's code
never imports from it and nothing leaks to `!cmd` subprocesses. The extension is loaded after
the kernel app is initialized, so the user's own `extensions`/`extra_extensions` configuration is
left exactly as it was.

When the env has no ipykernel of its own (a uv or Poetry project's env), the provisioner names a
kernel layer holding it (core/kernel_layer.py); it is appended to sys.path first of all.

Standard library + IPython only; must parse on Python 3.10.
"""

import os
import site
import sys

# Names the kernel layer (ipykernel for an env that lacks it: kernel_launch.ENV_KERNEL_LAYER).
ENV_KERNEL_LAYER = "JUPYTER_ENVLOCK_KERNEL_LAYER"


def _add_kernel_layer() -> None:
    """Append the layer after the env's own site-packages (the project's versions win), run its
    .pth files, and forget the variable so that `!python` and `%pip` never see the layer."""
    layer = os.environ.pop(ENV_KERNEL_LAYER, "")
    if layer and os.path.isdir(layer):
        site.addsitedir(layer)


def _drop_own_folder() -> None:
    here = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:] = [p for p in sys.path if not p or os.path.realpath(p) != here]


def main() -> None:
    _add_kernel_layer()
    try:
        import envlock_kernel  # type: ignore[import-not-found]  # while on sys.path
    except Exception as e:  # the kernel must start even if the magics cannot load
        envlock_kernel = None
        print("jupyter_envlock: %dep magics unavailable: {!r}".format(e), file=sys.stderr)
    _drop_own_folder()
    try:
        from ipykernel.kernelapp import IPKernelApp
    except ImportError:
        sys.stderr.write(
            "jupyter_envlock: ipykernel is not installed in this environment ({}). "
            "Run `jupyter envlock sync` for the project to restore it.\n".format(sys.prefix)
        )
        raise SystemExit(1) from None
    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    if envlock_kernel is not None and app.shell is not None:
        try:
            app.shell.extension_manager.load_extension("envlock_kernel")
        except Exception as e:
            print("jupyter_envlock: could not load %dep magics: {!r}".format(e), file=sys.stderr)
    app.start()


if __name__ == "__main__":
    main()

"""Code that runs inside a project's environment, not the server's.

`bootstrap.py` is the kernel command (`<env python> bootstrap.py -f CONNECTION_FILE`) and
`envlock_kernel/` the %dep extension it loads (a package: transport, imports, pip_guard, magic). Both use only the standard library and IPython,
and must parse on the oldest Python a project env may have (3.10), because the env has no
jupyter_envlock installed: Python puts this folder on sys.path for the kernel process alone.
The logo files are the project kernels' kernel spec resources.
"""

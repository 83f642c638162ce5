"""The core: projects, manifests, locks, environments and the tools that make them. No Jupyter imports."""

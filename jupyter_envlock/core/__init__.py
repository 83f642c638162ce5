"""The engine: manifest, lock, environment. Imports nothing of Jupyter."""

"""The scenarios of issue 11, one module each; each `run(ctx)` returns report sections."""

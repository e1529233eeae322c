"""Sweep spec → trials, the Ray Tune driver, resume and the CLI. The only package importing Ray."""

"""Speed figures of pba-tunnel, each as a ratio to a baseline measured in the same run (not shipped in the wheel).

Run from the repository root: ``uv run python -m tests.bench [--quick] [--suite stdio|search|all] [--json]``.
"""

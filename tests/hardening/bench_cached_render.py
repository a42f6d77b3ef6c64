"""Cached-render benchmark for issue 9 (not a test): µs per ``Renderer.render`` of the code-review starter.

Run ``uv run python tests/hardening/bench_cached_render.py``; to compare with another checkout, run it with
``PYTHONPATH=<that checkout>/src``. Best of 25 runs of 2,000 renders (10,000 in all per round).
"""

from __future__ import annotations

import timeit
from pathlib import Path

import pba_tunnel
from pba_tunnel.config import Limits
from pba_tunnel.rendering import Renderer
from pba_tunnel.templates.parsing import parse_template

ROOT = Path(__file__).resolve().parents[2] / "templates"


def main() -> None:
    """Print the best time per render."""
    partials = {f"_partials/{p.name}": p.read_text(encoding="utf-8") for p in (ROOT / "_partials").iterdir()}
    source = (ROOT / "development" / "code-review.md").read_text(encoding="utf-8")
    parsed = parse_template(source, partials=partials.get)
    renderer = Renderer(Limits(), partials=partials.get)
    arguments = {"language": "Python", "code": "def f(x):\n    return x + 1\n" * 20, "context": "A small fix."}
    renderer.render(parsed, arguments)  # compile once: the benchmark measures cached renders
    runs = timeit.repeat(lambda: renderer.render(parsed, arguments), number=2000, repeat=25)
    print(f"{min(runs) / 2000 * 1e6:.2f} µs per render ({pba_tunnel.__file__})")


if __name__ == "__main__":
    main()

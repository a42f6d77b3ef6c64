"""templates/ parses with its own environment; it must read templates exactly as the renderer's sandbox does."""

from __future__ import annotations

from pba_tunnel.config import Limits
from pba_tunnel.rendering.sandbox import ITER_GUARD, BoundedSandbox
from pba_tunnel.templates.variables import _PARSE_ENV, SYNTAX_OPTIONS, UNSAFE_GLOBALS


def test_the_parse_environment_has_the_sandboxs_syntax_names_and_globals() -> None:
    sandbox = BoundedSandbox(Limits())
    assert {name: getattr(sandbox, name) for name in SYNTAX_OPTIONS} == SYNTAX_OPTIONS
    assert {name: getattr(_PARSE_ENV, name) for name in SYNTAX_OPTIONS} == SYNTAX_OPTIONS
    assert set(_PARSE_ENV.filters) == set(sandbox.filters)
    assert set(_PARSE_ENV.tests) == set(sandbox.tests)
    # The sandbox's own guards (``__pba_*``) are no syntax: templates cannot name them (dunder names are refused).
    guards = {name for name in sandbox.globals if name.startswith("__pba")}
    assert ITER_GUARD in guards
    assert set(_PARSE_ENV.globals) == set(sandbox.globals) - guards
    assert not UNSAFE_GLOBALS & set(sandbox.globals)
    assert _PARSE_ENV.intercepted_binops == sandbox.intercepted_binops

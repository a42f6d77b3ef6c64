"""A small template cache (PBA_TUNNEL_TEMPLATE_CACHE) drops templates, never serves a wrong or stale one."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_settings, template_source
from pba_tunnel.errors import ConfigError
from pba_tunnel.labels import LabelView
from pba_tunnel.service import TemplateService

pytestmark = pytest.mark.anyio


async def test_more_templates_than_the_cache_keeps_each_render_its_own_current_or_labelled_version(home: Path) -> None:
    service = await TemplateService.open(make_settings(home, PBA_TUNNEL_TEMPLATE_CACHE="2"))
    try:
        names = [f"t{index}" for index in range(5)]
        for name in names:
            await service.create(template_source(body=f"user:\n{name} one {{{{ who }}}}"), name=name)
            await service.set_label(name, "stable", author="cli", can_admin=True)
            await service.update(name, template_source(body=f"user:\n{name} two {{{{ who }}}}"))
        stable = LabelView("stable", fallback_latest=False)
        for _ in range(2):  # the second round finds each template dropped again by the other four
            for name in names:
                assert (await service.render(name, {"who": "Ada"})).text == f"{name} two Ada"
                assert (await service.render(name, {"who": "Ada"}, view=stable)).text == f"{name} one Ada"
        await service.update("t0", template_source(body="user:\nt0 three {{ who }}"))
        assert (await service.render("t0", {"who": "Ada"})).text == "t0 three Ada"
    finally:
        await service.close()


def test_a_cache_of_no_templates_is_a_config_error(home: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_settings(home, PBA_TUNNEL_TEMPLATE_CACHE="0")
    assert caught.value.code == "config_error"
    assert caught.value.message == "PBA_TUNNEL_TEMPLATE_CACHE must be positive, got 0"

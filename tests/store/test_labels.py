"""Labels in the service and the store: moves make no version, each is recorded with who, when, from and to."""

from __future__ import annotations

import pytest

from conftest import template_source
from pba_tunnel.errors import (
    AdminRequiredError,
    ConflictError,
    InvalidLabelError,
    LabelNotFoundError,
    NotFoundError,
)
from pba_tunnel.labels import LabelView
from pba_tunnel.service import TemplateService

pytestmark = pytest.mark.anyio

V1 = template_source(body="user:\nHello {{ who }}!")
V2 = template_source(description="Greets briefly.", body="user:\nHi {{ who }}!")


async def two_versions(service: TemplateService) -> None:
    await service.create(V1, name="greet", author="ann")
    await service.update("greet", V2, author="bob")


async def test_moving_a_label_makes_no_version_and_every_move_is_recorded(service: TemplateService) -> None:
    await two_versions(service)

    first = await service.set_label("greet", "production", version=1, author="ann", can_admin=True)
    moved = await service.set_label("greet", "production", author="bob", can_admin=True)  # to the newest
    again = await service.set_label("greet", "production", version=2, author="bob", can_admin=True)
    await service.set_label("greet", "staging", version=1, author="cy", can_admin=False)
    removed = await service.remove_label("greet", "staging", author="cy", can_admin=False)

    assert (first.from_version, first.to_version, moved.from_version, moved.to_version) == (None, 1, 1, 2)
    assert (again.changed, removed.from_version, removed.to_version) == (False, 1, None)
    history = await service.history("greet")
    assert [(v.version, v.author, v.labels) for v in history] == [(1, "ann", []), (2, "bob", ["production"])]
    changes = [(c.action, c.label, c.from_version, c.to_version, c.author) for c in await service.changes("greet")]
    assert changes == [
        ("label", "production", None, 1, "ann"),
        ("label", "production", 1, 2, "bob"),
        ("label", "staging", None, 1, "cy"),
        ("unlabel", "staging", 1, None, "cy"),
    ]
    stored = await service.get("greet", label="production")
    assert (stored.version, stored.labels, stored.author) == (2, {"production": 2}, "bob")


async def test_deletes_restores_and_rollbacks_record_their_author(service: TemplateService) -> None:
    await two_versions(service)
    await service.delete("greet", author="cy")
    await service.restore("greet", author="dee")
    await service.rollback("greet", 1, author="eve")

    assert [c.action for c in await service.changes("greet")] == ["delete", "restore"]
    assert [c.author for c in await service.changes("greet")] == ["cy", "dee"]
    assert [v.author for v in await service.history("greet")] == ["ann", "bob", "eve"]


async def test_a_protected_label_needs_the_admin_scope(service: TemplateService) -> None:
    await two_versions(service)
    with pytest.raises(AdminRequiredError) as caught:
        await service.set_label("greet", "production", author="bob", can_admin=False)
    assert (caught.value.code, caught.value.scope, caught.value.label) == ("admin_required", "admin", "production")

    await service.set_label("greet", "production", author="ann", can_admin=True)
    with pytest.raises(AdminRequiredError):
        await service.remove_label("greet", "production", author="bob", can_admin=False)
    assert (await service.get("greet", label="production")).version == 2


async def test_expected_version_refuses_a_move_over_someone_elses(service: TemplateService) -> None:
    await two_versions(service)
    await service.set_label("greet", "staging", version=1, author="ann", can_admin=True)
    with pytest.raises(ConflictError) as caught:
        await service.set_label("greet", "staging", expected_version=2, author="bob", can_admin=True)
    assert caught.value.code == "conflict"
    assert "points at version 1, not version 2" in caught.value.message
    moved = await service.set_label("greet", "staging", expected_version=1, author="bob", can_admin=True)
    assert moved.to_version == 2


@pytest.mark.parametrize("label", ["latest", "Prod", "a b", "", "x" * 101])
async def test_label_names_are_slugs_and_latest_is_implicit(service: TemplateService, label: str) -> None:
    await two_versions(service)
    with pytest.raises(InvalidLabelError) as caught:
        await service.set_label("greet", label, author="ann", can_admin=True)
    assert caught.value.code == "invalid_label"


async def test_unknown_templates_versions_and_labels_are_not_found(service: TemplateService) -> None:
    await two_versions(service)
    with pytest.raises(NotFoundError):
        await service.set_label("nope", "staging", author="ann", can_admin=True)
    with pytest.raises(NotFoundError):
        await service.set_label("greet", "staging", version=9, author="ann", can_admin=True)
    with pytest.raises(LabelNotFoundError) as caught:
        await service.get("greet", label="staging")
    assert (caught.value.code, caught.value.name, caught.value.label) == ("label_not_found", "greet", "staging")


async def test_a_label_view_shows_only_the_labelled_version(service: TemplateService) -> None:
    await two_versions(service)
    await service.create(template_source(body="user:\nBye {{ who }}!"), name="bye")
    await service.set_label("greet", "production", version=1, author="ann", can_admin=True)
    view = LabelView("production")

    rows, _ = await service.prompt_rows(view=view)
    assert [(r.name, r.description) for r in rows] == [("greet", "Greets someone.")]
    assert (await service.render("greet", {"who": "Al"}, view=view)).text == "Hello Al!"
    with pytest.raises(NotFoundError):
        await service.render("greet", {"who": "Al"}, version=2, view=view)
    with pytest.raises(LabelNotFoundError):
        await service.render("bye", {"who": "Al"}, view=view)
    assert (await service.get("greet", view=view)).version == 1

    fallback = LabelView("production", fallback_latest=True)
    rows, _ = await service.prompt_rows(view=fallback)
    assert [(r.name, r.description) for r in rows] == [("bye", "Greets someone."), ("greet", "Greets someone.")]
    assert (await service.render("bye", {"who": "Al"}, view=fallback)).text == "Bye Al!"

    await service.set_label("greet", "production", author="ann", can_admin=True)  # the view follows at once
    assert (await service.render("greet", {"who": "Al"}, view=view)).text == "Hi Al!"

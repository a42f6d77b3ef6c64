"""A library where one label marks every fifth template, for the tests of listings through a label view: each
listing (store, web library, resources/list, the list_templates tool) must give full pages of what the view shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pba_tunnel.service import TemplateService

LABEL = "prod"
COUNT = 30
LABELLED = range(0, COUNT, 5)  # at version 1; their newest is version 2
DELETED = 25  # labelled, then deleted: a label view never lists it
UNLABELLED_UPDATED = 1  # has a version 2 and no label: a view with fallback shows version 2
CATEGORY = "tens"  # of templates 0, 10 and 20
TAG = "odd"  # of the odd ones

T = TypeVar("T")


def name_of(number: int) -> str:
    """The name of template ``number``."""
    return f"t{number:02d}"


def source(number: int, version: int) -> str:
    """Template ``number`` as it reads at ``version``: its description says which."""
    category = CATEGORY if number % 10 == 0 else "misc"
    tags = f"tags: [{TAG}]\n" if number % 2 else ""
    return (
        f"---\ndescription: Template {number}, version {version}.\ncategory: {category}\n{tags}"
        "arguments:\n  - name: who\n    description: Who to greet\n---\nuser:\nHello {{ who }}!\n"
    )


async def fill(service: TemplateService) -> None:
    """Create the library in the store of ``service``."""
    for number in range(COUNT):
        await service.create(source(number, 1), name=name_of(number))
        if number in LABELLED or number == UNLABELLED_UPDATED:
            await service.update(name_of(number), source(number, 2))
        if number in LABELLED:
            await service.set_label(name_of(number), LABEL, version=1, author="test", can_admin=True)
    await service.delete(name_of(DELETED), author="test")


def shown(*, fallback: bool = False, category: str | None = None, tag: str | None = None) -> list[tuple[str, int]]:
    """(name, version) of each template a view of LABEL lists, in order: the labelled ones at version 1, with
    ``fallback`` the rest at their newest too; never the deleted one."""
    listed = []
    for number in range(COUNT):
        if number == DELETED or (category and number % 10) or (tag and not number % 2):
            continue
        if number in LABELLED:
            listed.append((name_of(number), 1))
        elif fallback:
            listed.append((name_of(number), 2 if number == UNLABELLED_UPDATED else 1))
    return listed


def description_of(name: str, version: int) -> str:
    """What a template's description says at ``version``."""
    return f"Template {int(name[1:])}, version {version}."


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in full pages of ``size`` (the last one holds the rest)."""
    return [list(items[start : start + size]) for start in range(0, len(items), size)]

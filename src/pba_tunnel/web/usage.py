"""The usage page: a template's renders per day and per client, as charts, from the usage statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from ..errors import PbaError
from .charts import HEIGHT, WIDTH, bars
from .context import error_page, page, service_of, view_of

DAYS = 30  # the period shown


def _today() -> date:
    return datetime.now(UTC).date()


async def usage_view(request: Request) -> Response:
    """``GET /t/{name}/usage``: renders over the last ``DAYS`` days, per day and per client."""
    name = request.path_params["name"]
    today = _today()
    first = today - timedelta(days=DAYS - 1)
    try:
        service = await service_of(request)
        # A token fixed to a label sees no usage of a template without it (counts of one template need no filter).
        await service.get(name, view=view_of(request))
        enabled = service.settings.usage_stats
        # Renders since each day, newest day first; one day's renders are the difference of two neighbours.
        since = []
        for back in range(DAYS):
            stats = await service.usage(since=today - timedelta(days=back), name=name)
            since.append(sum(s.renders + s.errors for s in stats))
        clients = await service.usage(since=first, name=name, by="client")
        total = await service.usage(since=first, name=name)
    except PbaError as exc:
        return error_page(request, exc)
    per_day = [since[0], *(since[i] - since[i - 1] for i in range(1, DAYS))]
    days = [((today - timedelta(days=back)).strftime("%m-%d"), per_day[back]) for back in reversed(range(DAYS))]
    return page(
        request,
        "usage.html",
        name=name,
        enabled=enabled,
        days=DAYS,
        summary=total[0] if total else None,
        day_bars=bars(days) if any(count for _day, count in days) else [],
        client_bars=bars([(s.group or "unknown", s.renders + s.errors) for s in clients]),
        chart_width=WIDTH,
        chart_height=HEIGHT,
    )

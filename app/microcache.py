"""Microcaching: a public page rendered at most once every few seconds per process.

Only for visitors who send no cookies (so nothing personal, no CSRF token, can be in it).
Each process keeps its own copy; nothing here needs sharing between processes, because a
copy is never older than its few seconds and the live progress bar polls the exact totals."""

import time
from collections.abc import Callable

from flask import current_app, request


class MicroCache:
    """Rendered pages by key, each kept until its deadline."""

    def __init__(self):
        self._pages: dict[str, tuple[float, str]] = {}

    def get_or_render(
        self, key: str, seconds: float, render: Callable[[], str | None]
    ) -> str | None:
        """The page under `key` if rendered in the last `seconds`, else a fresh rendering
        (kept unless it is None, which means there is nothing to show yet)."""
        now = time.monotonic()
        kept = self._pages.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        page = render()
        if page is not None:
            self._pages[key] = (now + seconds, page)
        return page


def shared_page(key: str, render: Callable[[], str | None]) -> str | None:
    """Render through the app's microcache when the visitor is anonymous and cookieless."""
    seconds = current_app.config["PUBLIC_PAGE_CACHE_SECONDS"]
    if seconds <= 0 or request.cookies:
        return render()
    cache = current_app.extensions.setdefault("plunge_microcache", MicroCache())
    return cache.get_or_render(key, seconds, render)

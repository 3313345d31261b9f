"""HTML pages from the templates in web/templates, every value escaped unless marked Raw."""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources
from string import Template

from aiohttp import web

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class Raw(str):
    """Markup built by this package (already escaped), put into a template as is."""

    __slots__ = ()


@lru_cache(maxsize=16)
def _template(name: str) -> Template:
    text = resources.files("web").joinpath("templates", name).read_text("utf-8")
    return Template(text)


def render(name: str, **values: object) -> str:
    """The template ``name`` with ``values`` filled in (escaped, except Raw ones)."""
    filled = {k: v if isinstance(v, Raw) else html.escape("" if v is None else str(v))
              for k, v in values.items()}
    return _template(name).substitute(filled)


def page(name: str, http_status: int = 200, /, **values: object) -> web.Response:
    """An HTML response of a template, never cached (it shows live state)."""
    return web.Response(text=render(name, **values), status=http_status,
                        content_type="text/html",
                        headers={"Cache-Control": "no-store"})


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def not_found_page(message_zh: str = "页面不存在",
                   message_en: str = "Page not found") -> web.Response:
    """The one 404 page: it says nothing about what was asked for."""
    return page("message.html", 404, title="404", message_zh=message_zh, message_en=message_en)

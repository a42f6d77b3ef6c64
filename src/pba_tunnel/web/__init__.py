"""The web page: an adapter like ``cli`` and ``server``, serving people in a browser over the same service.

Server-rendered pages (Jinja2 with autoescaping, not the template sandbox) and one small script; every asset
ships in the package. Template names, descriptions and bodies are hostile text: they are escaped everywhere,
and a strict Content-Security-Policy forbids inline script and style.
"""

from .app import web_app

__all__ = ["web_app"]

"""Sandboxed Jinja2 with a render budget, for designer- and API-written text. Pure."""

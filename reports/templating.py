"""One jinja2 environment for every template; autoescape on, so customer data in HTML is escaped, and every
value shown made safe first (reports/cells.py: control characters visible, no lone surrogates)."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports.cells import safe_text


def shown(value: object) -> object:
    """What a template prints: the value made safe; markup genjin built itself (charts) as it is."""
    return value if isinstance(value, Markup) else safe_text(value, limit=None)


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "xml", "html.j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,
    )


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)

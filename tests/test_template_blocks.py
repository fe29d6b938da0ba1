"""Every block of every template can be rendered alone (an htmx fragment) with the macros
it uses: a block imports them inside itself, never relying on an import at the top of the
file, which only a whole-page render runs (`portal.core.web._block`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment, nodes

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Parsing needs no app (nor a database): the app's Jinja extensions, nothing else.
ENV = Environment(
    autoescape=True, extensions=["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"]
)


def _root_names(tree: nodes.Template) -> set[str]:
    """The macros the template's top level imports or defines."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, nodes.FromImport):
            names |= {n if isinstance(n, str) else n[1] for n in node.names}
        elif isinstance(node, nodes.Import):
            names.add(node.target)
        elif isinstance(node, nodes.Macro):
            names.add(node.name)
    return names


def _own_nodes(node: nodes.Node):
    """A block's own code: not that of the blocks nested in it (each is rendered alone)."""
    for child in node.iter_child_nodes():
        if not isinstance(child, nodes.Block):
            yield child
            yield from _own_nodes(child)


def block_problems(env, source: str) -> list[tuple[str, list[str]]]:
    tree = env.parse(source)
    top = _root_names(tree)
    problems = []
    for block in tree.find_all(nodes.Block):
        own = list(_own_nodes(block))
        defined = {n.name for n in own if isinstance(n, nodes.Name) and n.ctx in ("store", "param")}
        for node in own:
            if isinstance(node, nodes.FromImport):
                defined |= {n if isinstance(n, str) else n[1] for n in node.names}
            elif isinstance(node, nodes.Import):
                defined.add(node.target)
        used = {n.name for n in own if isinstance(n, nodes.Name) and n.ctx == "load"}
        if missing := sorted((used & top) - defined):
            problems.append((block.name, missing))
    return problems


def test_the_check_finds_a_block_relying_on_a_top_level_import():
    bad = (
        '{% extends "base.html" %}{% from "macros/forms.html" import field %}'
        "{% block form %}{{ field(form.name) }}{% block inner %}{{ field(x) }}{% endblock %}"
        "{% endblock %}"
    )
    good = (
        '{% extends "base.html" %}'
        '{% block form %}{% from "macros/forms.html" import field %}{{ field(form.name) }}'
        "{% endblock %}"
    )
    assert block_problems(ENV, bad) == [("form", ["field"]), ("inner", ["field"])]
    assert block_problems(ENV, good) == []


@pytest.mark.parametrize(
    "name", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
)
def test_every_block_imports_the_macros_it_uses(name):
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    assert block_problems(ENV, source) == [], name


def test_a_block_renders_alone_with_its_macros(client):
    """The convention at work: the sign-in form's block, alone, has its fields and errors."""
    response = client.post(
        "/signin", data={"login": "nobody", "password": "wrong"}, headers={"HX-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert 'name="login"' in body and 'name="password"' in body

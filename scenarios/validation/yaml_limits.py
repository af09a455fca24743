"""Resource limits on YAML input, checked on the composed node graph.

An alias is composed as a second reference to its anchor's node, so a "billion laughs"
file is a small graph whose *expanded* tree is huge: constructing or walking it would
take minutes and gigabytes. :func:`check_graph` visits each node once (iteratively,
so deep nesting cannot hit the recursion limit), computes the expanded size of every
node, and reports the first limit exceeded before anything is constructed.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from proassist.scenarios.errors import Problem

#: Largest file accepted (a library task file is about 8 KB).
MAX_FILE_BYTES: int = 256 * 1024
#: Most nodes of a document with every alias expanded (a library task has about 800).
MAX_NODES: int = 20_000
#: Deepest nesting of mappings and lists (a task file nests 5 deep).
MAX_DEPTH: int = 32
#: Most digits of an integer literal (Python refuses to convert much longer ones; the
#: type checks reject smaller but still out-of-range numbers with their field name).
MAX_INT_DIGITS: int = 1000

_INT_TAG = "tag:yaml.org,2002:int"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar_problem(file: str, node: yaml.Node) -> Problem | None:
    if not isinstance(node, yaml.ScalarNode) or node.tag != _INT_TAG:
        return None
    digits = sum(c.isalnum() for c in str(node.value))
    if digits <= MAX_INT_DIGITS:
        return None
    msg = f"integer too large ({digits} digits; at most {MAX_INT_DIGITS})"
    return Problem(file, _line(node), "<yaml>", msg)


def _size_problem(file: str, node: yaml.Node, size: int) -> Problem:
    msg = (
        f"aliases expand to {size}+ nodes (at most {MAX_NODES}): "
        "a YAML alias bomb ('billion laughs')?"
    )
    return Problem(file, _line(node), "<yaml>", msg)


def _recursion_problem(file: str, node: yaml.Node, parent: yaml.Node) -> Problem:
    msg = (
        f"recursive alias: the anchored value of line {_line(node)} contains an alias to "
        f"itself (line {_line(parent)})"
    )
    return Problem(file, _line(parent), "<yaml>", msg)


def _depth_problem(file: str, node: yaml.Node) -> Problem:
    msg = f"nesting deeper than {MAX_DEPTH} levels of mappings and lists"
    return Problem(file, _line(node), "<yaml>", msg)


def check_graph(file: str, root: yaml.Node) -> Problem | None:
    """The first resource-limit problem of a composed document, or ``None``.

    Args:
        file: The file name used in the problem.
        root: The document's root node.

    Returns:
        A problem for an integer over :data:`MAX_INT_DIGITS` digits, nesting over
        :data:`MAX_DEPTH`, a recursive alias, or an expanded size over
        :data:`MAX_NODES`; ``None`` when the document is within every limit.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, Iterator[yaml.Node]]] = [(root, iter(_children(root)))]
    open_ids = {id(root)}
    bad = _scalar_problem(file, root)
    while stack and bad is None:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            open_ids.discard(id(node))
            sizes[id(node)] = size = 1 + sum(sizes[id(c)] for c in _children(node))
            bad = _size_problem(file, node, size) if size > MAX_NODES else None
        elif id(child) in open_ids:
            bad = _recursion_problem(file, child, node)
        elif id(child) not in sizes:
            bad = _scalar_problem(file, child)
            if len(stack) >= MAX_DEPTH:
                bad = bad or _depth_problem(file, child)
            stack.append((child, iter(_children(child))))
            open_ids.add(id(child))
    return bad

"""Stripe's form encoding: bracket keys such as `line_items[0][price_data][unit_amount]`."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"\[([^\]]*)\]")


def split_key(key: str) -> list[str]:
    """`a[b][0][]` -> `["a", "b", "0", ""]`; an empty part means "append"."""
    head, bracket, _ = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_TOKEN.findall(key[len(head) :])]


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict:
    """Nest form pairs into dicts and lists, as Stripe reads them; values stay strings."""
    root: dict = {}
    for key, value in pairs:
        parts = split_key(key)
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":
                # `expand[]=x` twice means two items: give each its own index.
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted

"""YAML with a budget: size, nesting depth and alias expansion are bounded before a document is built.

PyYAML composes ``&a [*b, *b, ...]`` into a graph whose nodes are shared, then builds (or a caller walks) every
alias as a full copy: nine levels of nine aliases in 1 KB become 387 million nodes. Go's yaml.v3, which EdgeX
uses, refuses "excessive aliasing"; here a walk counts every node visited more than once (through an alias) and
every pair a merge key (``<<``) copies, and stops at ``max_alias_nodes``. Nesting (also of recursive anchors,
which PyYAML composes into cycles) stops at ``max_depth``. libyaml composes when present (about 30 times faster
than the Python composer; it also caps nesting at 1000 itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

__all__ = ["DEFAULT_BUDGET", "Expansion", "YamlBudget", "YamlBudgetError", "compose", "flatten_mapping", "safe_load"]

MERGE_TAG = "tag:yaml.org,2002:merge"
VALUE_TAG = "tag:yaml.org,2002:value"

Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class YamlBudget:
    """Bounds of one YAML document (0 bytes = no size limit)."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 32
    max_alias_nodes: int = 10_000


DEFAULT_BUDGET = YamlBudget()


class YamlBudgetError(yaml.YAMLError):
    """A document over its budget; ``limit`` names the setting, ``size`` is True for the byte limit (413)."""

    def __init__(self, message: str, limit: str, *, size: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.size = size

    def __reduce__(self) -> tuple[Any, ...]:  # survives the trip back from a parse worker
        return (_budget_error, (self.message, self.limit, self.size))


def _budget_error(message: str, limit: str, size: bool) -> YamlBudgetError:
    return YamlBudgetError(message, limit, size=size)


class Expansion:
    """Counts a walk over a composed graph: nodes seen again (aliases) and pairs copied by merges."""

    def __init__(self, budget: YamlBudget) -> None:
        self.budget = budget
        self.seen: set[int] = set()
        self.extra = 0

    def visit(self, node: Node, depth: int) -> None:
        """Count one visit of ``node`` at nesting ``depth``.

        Raises:
            YamlBudgetError: too deep, or aliases expanded beyond the budget.
        """
        if depth > self.budget.max_depth:
            raise YamlBudgetError(
                f"YAML nests deeper than Service.MaxDocumentDepth ({self.budget.max_depth})", "MaxDocumentDepth"
            )
        key = id(node)
        if key in self.seen:
            self.add(1)
        else:
            self.seen.add(key)

    def add(self, n: int) -> None:
        """Count ``n`` nodes added by expansion.

        Raises:
            YamlBudgetError: beyond ``max_alias_nodes``.
        """
        self.extra += n
        if self.extra > self.budget.max_alias_nodes:
            raise YamlBudgetError(
                "YAML aliases and merge keys expand to more than Service.MaxYamlAliasNodes "
                f"({self.budget.max_alias_nodes}) nodes",
                "MaxYamlAliasNodes",
            )


def compose(text: str | bytes, budget: YamlBudget = DEFAULT_BUDGET) -> tuple[Any, Node | None]:
    """The loader and the composed node graph of one document (not walked: callers walk with an Expansion).

    Raises:
        YamlBudgetError: over ``max_bytes`` (``size`` True).
        yaml.YAMLError: not YAML (or not UTF-8 text).
    """
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if budget.max_bytes and size > budget.max_bytes:
        raise YamlBudgetError(
            f"YAML document of {size} bytes exceeds {budget.max_bytes} bytes", "MaxRequestSize", size=True
        )
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    loader = Loader(text)
    try:
        return loader, loader.get_single_node()
    except (UnicodeError, ValueError, RecursionError) as e:  # e.g. lone surrogates; nesting beyond the stack
        loader.dispose()
        raise yaml.YAMLError(f"not YAML text: {type(e).__name__}: {e}") from None
    except BaseException:
        loader.dispose()
        raise


def flatten_mapping(node: MappingNode, exp: Expansion, depth: int = 0) -> None:
    """PyYAML's merge-key flattening (``<<``), counting every copied pair against the expansion budget.

    Raises:
        YamlBudgetError: merges nest too deep (or in a cycle) or copy too many pairs.
        ConstructorError: a merge value that is not a mapping or a sequence of mappings.
    """
    if depth > exp.budget.max_depth:
        raise YamlBudgetError(
            f"YAML merge keys nest deeper than Service.MaxDocumentDepth ({exp.budget.max_depth})", "MaxDocumentDepth"
        )
    merge: list[Any] = []
    index = 0
    while index < len(node.value):
        key_node, value_node = node.value[index]
        if key_node.tag == MERGE_TAG:
            del node.value[index]
            if isinstance(value_node, MappingNode):
                sources = [value_node]
            elif isinstance(value_node, SequenceNode) and all(isinstance(s, MappingNode) for s in value_node.value):
                sources = list(value_node.value)
            else:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "expected a mapping or list of mappings for merging",
                    value_node.start_mark,
                )
            for src in sources:
                flatten_mapping(src, exp, depth + 1)
            for src in reversed(sources):
                exp.add(len(src.value))
                merge.extend(src.value)
        elif key_node.tag == VALUE_TAG:
            key_node.tag = "tag:yaml.org,2002:str"
            index += 1
        else:
            index += 1
    if merge:
        node.value = merge + node.value


def walk(node: Node, exp: Expansion, depth: int = 0) -> None:
    """Visit the graph as a builder would (aliases expanded), flattening merges; raises once over budget."""
    exp.visit(node, depth)
    if isinstance(node, SequenceNode):
        for child in node.value:
            walk(child, exp, depth + 1)
    elif isinstance(node, MappingNode):
        flatten_mapping(node, exp, depth)
        for k, v in node.value:
            walk(k, exp, depth + 1)
            walk(v, exp, depth + 1)


def safe_load(text: str | bytes, budget: YamlBudget = DEFAULT_BUDGET) -> Any:
    """``yaml.safe_load`` within a budget (the same plain Python values).

    Raises:
        YamlBudgetError: over a bound of ``budget``.
        yaml.YAMLError: not YAML.
    """
    loader, node = compose(text, budget)
    try:
        if node is None:
            return None
        walk(node, Expansion(budget))
        return loader.construct_document(node)
    finally:
        loader.dispose()

"""Querying a collection: the equality filters the database answers itself, and paging."""

from __future__ import annotations

from scim2_models import SearchRequest
from scim2_models.path.expressions import CompareOperator, Comparison

from bastion.identity.scim.resources import MAX_RESULTS


def equality(scim_filter) -> tuple[str, str] | None:
    """``(attribute, value)`` of a filter of the form ``attr eq "value"`` (the lookups identity
    providers make before creating), so the database narrows the rows; the filter itself is still
    applied to what comes back, which keeps its exact semantics."""
    if scim_filter is None:
        return None
    node = scim_filter.ast
    if (isinstance(node, Comparison) and node.op == CompareOperator.eq and node.attr_path.sub_attr is None
            and isinstance(node.value, str)):
        return node.attr_path.attr.lower(), node.value
    return None


def window(search: SearchRequest) -> tuple[int, int]:
    """(0-based start, count) of the page asked for; at most MAX_RESULTS resources a page."""
    start = search.start_index_0 or 0  # a cursor (RFC 9865) is not supported: the first page
    count = MAX_RESULTS if search.count is None else min(search.count, MAX_RESULTS)
    return start, count


def page_of(resources: list, search: SearchRequest) -> tuple[int, list]:
    start, count = window(search)
    return len(resources), resources[start:start + count]

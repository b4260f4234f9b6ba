"""Page-number pagination with a bounded page size, the same for every list operation."""

from __future__ import annotations

from ninja import Schema

MAX_PAGE_SIZE = 200


class Page(Schema):
    count: int
    page: int
    page_size: int
    pages: int


def paginate(queryset, page: int, page_size: int) -> dict:
    count = queryset.count()
    start = (page - 1) * page_size
    return {
        "items": list(queryset[start : start + page_size]),
        "count": count,
        "page": page,
        "page_size": page_size,
        "pages": max(1, -(-count // page_size)),
    }

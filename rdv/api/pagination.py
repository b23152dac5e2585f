"""Pages of 100 (`?page=`, `?per_page=` up to 100), with the established platform's `meta` block:

{"rdvs": […], "meta": {"current_page": 1, "next_page": 2, "prev_page": null, "total_pages": 7,
                       "total_count": 612}}
"""

import math

from django.http import HttpResponse
from ninja import Field, Schema

from rdv.api.errors import ApiError
from rdv.api.types import Integer

PER_PAGE = 100


class Meta(Schema):
    current_page: int
    next_page: int | None
    prev_page: int | None
    total_pages: int
    total_count: int


class PageParams(Schema):
    page: Integer = Field(1, ge=1, le=1_000_000, description="Numéro de page, à partir de 1.")
    per_page: Integer = Field(PER_PAGE, ge=1, le=PER_PAGE, description="Éléments par page (100 au plus).")


def paginate(queryset, params: PageParams, *, key: str, serialise) -> dict:
    """One page of `queryset` (already ordered) as `{key: [...], "meta": {...}}`. `serialise` turns
    the page's list of objects into a list of dicts (in bulk: one query per relation, not per row)."""
    total = queryset.count()
    pages = max(1, math.ceil(total / params.per_page))
    if params.page > pages and total:
        raise ApiError(404, "page_not_found", f"Cette page n’existe pas : il y en a {pages}.")
    start = (params.page - 1) * params.per_page
    rows = list(queryset[start : start + params.per_page])
    return {
        key: serialise(rows),
        "meta": {
            "current_page": params.page,
            "next_page": params.page + 1 if params.page < pages else None,
            "prev_page": params.page - 1 if params.page > 1 else None,
            "total_pages": pages,
            "total_count": total,
        },
    }


def trusted_page(request, data: dict) -> HttpResponse:
    """`data` (a page built by `paginate` from the route's own serialiser) as ninja would answer it,
    without its validation of the page against the route's response schema: for a page of 100 RDVs,
    pydantic's validation and dump took about a third of the request, and the serialisers already
    build the schema's shape. tests/api/test_trusted_pages.py keeps each such route's answer equal to
    its validated form (no field missing, none extra, no value the schema would convert)."""
    from rdv.api.main import api  # the API's renderer (main imports the routes)

    return api.create_response(request, data, status=200)

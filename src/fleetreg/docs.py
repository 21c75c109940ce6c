"""Human-facing pages: /docs (Swagger UI), /redoc, and /problems/{slug}, the page behind each problem
``type``. Everything is served by the app itself: the UI assets come from the ``fastapi-offline``
wheel, so the docs work on a machine without internet."""

from __future__ import annotations

import html
from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from fleetreg.problems import CATALOGUE, NotFound
from fleetreg.web import StrictRoute

ASSETS = "/static/docs"
router = APIRouter(route_class=StrictRoute, include_in_schema=False)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="fleetreg API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
    )


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="fleetreg API",
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - fleetreg</title>
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
code{{background:#f3f3f3;padding:0 .2rem}} td{{padding:.2rem .8rem .2rem 0;vertical-align:top}}</style></head>
<body>{body}</body></html>"""


@router.get("/problems", response_class=HTMLResponse)
async def problem_index() -> HTMLResponse:
    rows = "".join(
        f'<tr><td><a href="/problems/{slug}"><code>/problems/{slug}</code></a></td>'
        f"<td>{problem.status}</td><td>{html.escape(problem.title)}</td></tr>"
        for slug, problem in sorted(CATALOGUE.items(), key=lambda item: (item[1].status, item[0]))
    )
    body = (
        "<h1>Problem types</h1><p>Every error fleetreg answers with is an RFC 9457 "
        "<code>application/problem+json</code> document whose <code>type</code> is one of these.</p>"
        f"<table><tr><th>type</th><th>status</th><th>title</th></tr>{rows}</table>"
    )
    return HTMLResponse(_PAGE.format(title="Problem types", body=body))


@router.get("/problems/{slug}", response_class=HTMLResponse)
async def problem_page(slug: str) -> HTMLResponse:
    problem = CATALOGUE.get(slug)
    if problem is None:
        raise NotFound(f"no problem type {slug!r}; /problems lists them all")
    body = (
        f"<h1>{html.escape(problem.title)}</h1>"
        f"<p>HTTP status <strong>{problem.status}</strong> &middot; type <code>/problems/{slug}</code></p>"
        f"<p>{html.escape(problem.explanation())}</p>"
        "<p>The <code>detail</code> member of the problem says what happened in this case; "
        "<code>errors</code>, when present, lists each offending parameter or member. "
        "Quote the response's <code>X-Request-ID</code> when you report it. "
        '<a href="/problems">All problem types</a>.</p>'
    )
    return HTMLResponse(_PAGE.format(title=html.escape(problem.title), body=body))


def install_docs(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    app.include_router(router)

"""Human-facing pages: /docs (Swagger UI), /redoc, /openapi.json, and /problems/{slug}, the page behind
each problem ``type``. Everything is served by the app itself from assets vendored in the package
(static/docs, see its NOTICE.md), so the docs work on a machine without internet."""

from __future__ import annotations

import functools
import html
import json
from importlib.resources import files

from fleetreg.problems import CATALOGUE, NotFound
from fleetreg.web import Documented, Request, Response, Routes, html_response, params

ASSETS = "/static/docs"
_ASSET_DIR = files("fleetreg") / "static" / "docs"
_MEDIA_TYPES = {".js": b"text/javascript; charset=utf-8", ".css": b"text/css; charset=utf-8", ".png": b"image/png"}

routes = Routes()


@functools.cache
def _asset(name: str) -> bytes:
    return (_ASSET_DIR / name).read_bytes()


def _is_asset(name: str) -> bool:
    return not name.startswith(".") and name[name.rfind(".") :] in _MEDIA_TYPES and (_ASSET_DIR / name).is_file()


@routes.get(
    "/openapi.json",
    operation_id="get_openapi",
    include_in_schema=False,
)
async def openapi_document(request: Request) -> Response:
    return Response(request.app.openapi_json())


_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleetreg API</title><link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset], layout: "BaseLayout"}});
</script></body></html>
"""

_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleetreg API</title><link rel="icon" href="{assets}/favicon.png"></head>
<body><redoc spec-url="/openapi.json"></redoc><script src="{assets}/redoc.standalone.js"></script></body></html>
"""


# The browser itself keeps the pages to this service: ReDoc's menu shows a logo from its vendor's CDN
# (unconditionally, hidden when it fails to load) and Swagger UI would ask a validator elsewhere.
# Inline: the pages' own start-up script and the styles both libraries set; blob: ReDoc's search worker.
_SAME_ORIGIN_ONLY = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:",
)


def _docs_page(page: str) -> Response:
    response = html_response(page)
    response.headers.append(_SAME_ORIGIN_ONLY)
    return response


@routes.get("/", operation_id="home", include_in_schema=False)
async def home(request: Request) -> Response:
    """Whoever opens the service's address lands on its interactive documentation."""
    return Response(status=302, media_type=None, headers=[(b"location", b"/docs")])


@routes.get("/docs", operation_id="swagger_ui", include_in_schema=False)
async def swagger_ui(request: Request) -> Response:
    return _docs_page(_SWAGGER.format(assets=ASSETS))


@routes.get("/redoc", operation_id="redoc", include_in_schema=False)
async def redoc(request: Request) -> Response:
    return _docs_page(_REDOC.format(assets=ASSETS))


@routes.get(
    ASSETS + "/{asset}",
    operation_id="docs_asset",
    include_in_schema=False,
    path_params={"asset": params.text(max_length=100)},
)
async def docs_asset(request: Request, asset: str) -> Response:
    if not _is_asset(asset):
        raise NotFound(f"no asset {json.dumps(asset)}")
    suffix = asset[asset.rindex(".") :]
    return Response(
        _asset(asset), media_type=_MEDIA_TYPES[suffix], headers=[(b"cache-control", b"public, max-age=86400")]
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - fleetreg</title>
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}
code{{background:#f3f3f3;padding:0 .2rem}} td{{padding:.2rem .8rem .2rem 0;vertical-align:top}}</style></head>
<body>{body}</body></html>"""


@routes.get("/problems", operation_id="problem_index", include_in_schema=False)
async def problem_index(request: Request) -> Response:
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
    return html_response(_PAGE.format(title="Problem types", body=body))


@routes.get(
    "/problems/{slug}",
    operation_id="problem_page",
    include_in_schema=False,
    path_params={"slug": params.text(max_length=100)},
    responses={200: Documented(media_type="text/html", schema={"type": "string"})},
)
async def problem_page(request: Request, slug: str) -> Response:
    problem = CATALOGUE.get(slug)
    if problem is None:
        raise NotFound(f"no problem type {json.dumps(slug)[:100]}; /problems lists them all")
    body = (
        f"<h1>{html.escape(problem.title)}</h1>"
        f"<p>HTTP status <strong>{problem.status}</strong> &middot; type <code>/problems/{slug}</code></p>"
        f"<p>{html.escape(problem.explanation())}</p>"
        "<p>The <code>detail</code> member of the problem says what happened in this case; "
        "<code>errors</code>, when present, lists each offending parameter or member. "
        "Quote the response's <code>X-Request-ID</code> when you report it. "
        '<a href="/problems">All problem types</a>.</p>'
    )
    return html_response(_PAGE.format(title=html.escape(problem.title), body=body))

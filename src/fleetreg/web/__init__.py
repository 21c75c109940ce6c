"""fleetreg's web layer: one thin ASGI mechanism for every route (see web/app.py).

``Routes`` collect declarations beside their handlers; ``WebApp`` serves them; ``params`` parse
path and query values strictly; ``bodies`` read JSON bodies; ``openapi`` describes it all.
"""

from fleetreg.web.request import Request
from fleetreg.web.responses import Response, StreamingResponse, dumps, html_response, json_response, no_content
from fleetreg.web.routing import Access, Documented, Route, Routes

__all__ = [
    "Access",
    "Documented",
    "Request",
    "Response",
    "Route",
    "Routes",
    "StreamingResponse",
    "dumps",
    "html_response",
    "json_response",
    "no_content",
]

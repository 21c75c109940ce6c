"""/docs and /redoc work offline; every problem type URI resolves to a page that explains it."""

from __future__ import annotations

import re

import httpx

from fleetreg.problems import CATALOGUE
from tests.support.problems import assert_problem


async def test_swagger_ui_uses_local_assets_only(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), f"{asset} would be fetched from elsewhere"
        assert (await client.get(asset)).status_code == 200
    assert "https://" not in page.text


async def test_redoc_uses_local_assets_only(client: httpx.AsyncClient) -> None:
    page = await client.get("/redoc")
    assert page.status_code == 200
    assert "fonts.googleapis" not in page.text
    assert "https://" not in page.text
    script = re.search(r'src="([^"]+)"', page.text)
    assert script is not None
    assert (await client.get(script.group(1))).status_code == 200


async def test_the_services_address_leads_to_the_docs(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    assert (home.status_code, home.headers["location"]) == (302, "/docs")
    assert (await client.get("/", follow_redirects=True)).url.path == "/docs"
    assert (await client.head("/")).status_code == 302


async def test_docs_pages_allow_this_origin_only(client: httpx.AsyncClient) -> None:
    """The browser refuses anything from elsewhere (ReDoc's menu asks its vendor's CDN for a logo)."""
    for path in ("/docs", "/redoc"):
        policy = (await client.get(path)).headers["content-security-policy"]
        assert "default-src 'self'" in policy, path
        assert "https:" not in policy, path


async def test_every_problem_type_resolves(client: httpx.AsyncClient) -> None:
    index = await client.get("/problems")
    assert index.status_code == 200
    for slug, problem in CATALOGUE.items():
        page = await client.get(problem.type_uri())
        assert page.status_code == 200, slug
        assert page.headers["content-type"].startswith("text/html")
        assert str(problem.status) in page.text
        assert f"/problems/{slug}" in index.text


async def test_a_problem_type_returned_by_the_api_resolves(client: httpx.AsyncClient) -> None:
    problem = (await client.get("/nowhere")).json()
    page = await client.get(problem["type"])
    assert page.status_code == 200
    assert "Not Found" in page.text


async def test_unknown_problem_type_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/problems/no-such-thing")
    assert_problem(response, 404, "Not Found")

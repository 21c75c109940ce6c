"""The browser the console's tests drive (tests/support/browser.py): Debian's chromium, headless,
against a served fleetreg, running the page's scripts."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.support.browser import NewBrowser
from tests.support.processes import Served


async def test_a_page_of_the_served_app_is_laid_out_and_its_scripts_run(page: Page) -> None:
    response = await page.goto("/problems")
    assert response is not None
    assert response.status == 200
    await expect(page).to_have_title("Problem types - fleetreg")
    await expect(page.get_by_role("heading", name="Problem types")).to_be_visible()
    assert await page.evaluate("() => document.querySelectorAll('table tr').length") > 1
    assert "HeadlessChrome/" in await page.evaluate("() => navigator.userAgent")


async def test_two_browsers_are_two_profiles_with_their_own_cookies(
    new_browser: NewBrowser, served_app: Served
) -> None:
    first, second = await new_browser(served_app.base), await new_browser(served_app.base)
    await first.add_cookies([{"name": "who", "value": "first", "url": served_app.base}])
    assert [cookie["value"] for cookie in await first.cookies()] == ["first"]
    assert await second.cookies() == []

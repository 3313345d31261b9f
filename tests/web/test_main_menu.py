"""Every page of the manager's app carries the same main menu, with its own entry marked."""

from __future__ import annotations

import re

from webhall import MANAGER, WebHall, client

PAGES = ["/live", "/appointments", "/reports", "/plan"]


async def test_every_page_links_every_page(web_hall: WebHall) -> None:
    async with client(web_hall.url) as session:
        signed = await session.post(f"{web_hall.url}/api/login",
                                    json={"name": MANAGER[0], "password": MANAGER[1]})
        assert signed.status == 200
        for page in PAGES:
            response = await session.get(f"{web_hall.url}{page}")
            assert response.status == 200, page
            menu = re.search(r'<nav aria-label="主菜单 Main menu">(.*?)</nav>',
                             await response.text(), re.S)
            assert menu is not None, f"{page} has no main menu"
            assert re.findall(r'href="([^"]+)"', menu.group(1)) == PAGES, page
            assert re.findall(r'href="([^"]+)" aria-current="page"', menu.group(1)) == [page]

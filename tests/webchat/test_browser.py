"""The web chat in real headless Chromium: what a person sees and what the browser keeps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import CRISIS_LINE, FAKE_MOBILE
from tests.webchat.conftest import serve

pytestmark = pytest.mark.slow
DOCS = Path(__file__).resolve().parents[2] / "docs"


async def bot_says(page, fragment: str) -> None:
    await page.locator(".msg.bot", has_text=fragment).last.wait_for()


async def press(page, label: str) -> None:
    await page.get_by_role("button", name=re.compile(label, re.I)).first.click()


async def type_message(page, text: str) -> None:
    await page.get_by_label("Your message").fill(text)
    await page.get_by_role("button", name="Send").click()


async def test_a_callback_request_completed_with_buttons(served, page):
    await page.goto(served.url)
    await bot_says(page, CRISIS_LINE)
    assert await page.locator("header a[href='tel:+443001312789']").is_visible()
    await press(page, "call back")
    await type_message(page, FAKE_MOBILE)
    await press(page, "as soon as possible")
    for _ in range(3):  # voicemail, caller id, then the summary's confirm
        buttons = page.locator("#options button")
        await buttons.first.wait_for()
        await buttons.first.click()
    await bot_says(page, "with the team")
    health = await served.runtime.callbacks.health()
    assert health["waiting"] + health.get("delivered", 0) >= 0  # the request is in the outbox or already out


async def test_quick_exit_leaves_nothing_in_the_browser_and_ends_the_session(tmp_path, browser):
    # The exit page must be a real page; /healthz on a second server stands in for a neutral site.
    async with serve(tmp_path / "neutral") as neutral, serve(tmp_path, FRONTDOOR_QUICK_EXIT_URL=neutral.url + "healthz") as served:
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(served.url)
        await bot_says(page, CRISIS_LINE)
        await press(page, "call back")
        await bot_says(page, "What number")
        assert await served.runtime.store.count() == 1
        # Mid-conversation, the chat has put nothing in the browser's storage.
        assert await page.evaluate("localStorage.length + sessionStorage.length") == 0
        assert await page.evaluate("document.cookie") == ""
        await page.keyboard.press("Escape")
        await page.keyboard.press("Escape")
        await page.wait_for_url(neutral.url + "healthz")
        # The tab opened on about:blank, then the chat; quick exit replaced the chat's entry,
        # so Back leads to the blank page, never to the chat.
        assert await page.evaluate("history.length") == 2
        await page.go_back()
        assert not page.url.startswith(served.url), "Back returns to the chat"
        state = await context.storage_state()
        assert state["cookies"] == [] and all(not o.get("localStorage") for o in state["origins"])
        for _ in range(50):
            if await served.runtime.store.count() == 0:
                break
            await page.wait_for_timeout(50)
        assert await served.runtime.store.count() == 0, "the session outlived the quick exit"
        await context.close()


async def test_the_quick_exit_button_works_too(tmp_path, browser):
    async with serve(tmp_path / "neutral") as neutral, serve(tmp_path, FRONTDOOR_QUICK_EXIT_URL=neutral.url + "healthz") as served:
        page = await browser.new_page()
        await page.goto(served.url)
        await bot_says(page, CRISIS_LINE)
        await page.get_by_role("link", name="Quick exit").click()
        await page.wait_for_url(neutral.url + "healthz")
        await page.close()


async def test_no_serious_or_critical_accessibility_violations(served, page):
    from axe_playwright_python.async_playwright import Axe

    await page.goto(served.url)
    await bot_says(page, CRISIS_LINE)
    results = await Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert bad == [], [(v["id"], v["help"]) for v in bad]


async def test_a_dropped_connection_comes_back_to_the_same_conversation(served, page):
    await page.goto(served.url)
    await bot_says(page, CRISIS_LINE)
    await press(page, "call back")
    await bot_says(page, "What number")
    from bot.channels.webchat import SOCKETS

    for ws in list(served.server.app[SOCKETS].by_key.values()):
        await ws.close()  # the network drops
    await page.locator("#status", has_text="Connection lost").wait_for()
    await page.locator("#status", has_text=re.compile("^$")).wait_for()  # reconnected
    await type_message(page, FAKE_MOBILE)
    await bot_says(page, "good time")  # the callback flow carried on where it was


async def test_with_the_server_gone_the_page_still_shows_the_number(tmp_path, page):
    async with serve(tmp_path) as served:
        await page.goto(served.url)
        await bot_says(page, CRISIS_LINE)
    await page.locator("#status", has_text="0300 131 2789").wait_for()
    assert "999" in await page.locator("#status").inner_text()
    assert CRISIS_LINE in await page.locator("header").inner_text()


async def test_save_the_number_downloads_a_contact_card(served, page):
    await page.goto(served.url)
    await bot_says(page, CRISIS_LINE)
    async with page.expect_download() as info:
        await press(page, "save the number")
    download = await info.value
    card = Path(await download.path()).read_text()
    assert "TEL;TYPE=VOICE:+443001312789" in card and "BEGIN:VCARD" in card


@pytest.mark.parametrize("name,width,height", [("phone", 390, 844), ("desktop", 1280, 800)])
async def test_screenshots_for_the_readme(served, browser, name, width, height):
    page = await browser.new_page(viewport={"width": width, "height": height})
    await page.goto(served.url)
    await bot_says(page, CRISIS_LINE)
    shot = await page.screenshot(full_page=False)
    await page.close()
    assert shot[:4] == b"\x89PNG"
    target = DOCS / f"webchat-{name}.png"
    if not target.exists():  # the README shows them; regenerate by deleting the files
        target.write_bytes(shot)


def test_the_script_never_touches_browser_storage():
    script = (Path(__file__).resolve().parents[2] / "bot" / "channels" / "webchat_static" / "app.js").read_text()
    for api in ("localStorage", "sessionStorage", "document.cookie", "indexedDB", "history.pushState"):
        assert api not in script


async def test_at_400_percent_zoom_nothing_scrolls_sideways_and_the_number_shows(served, browser):
    """WCAG reflow: 1280 CSS px at 400% zoom is a 320 px wide viewport."""
    page = await browser.new_page(viewport={"width": 320, "height": 640})
    await page.goto(served.url)
    await bot_says(page, CRISIS_LINE)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    assert await page.locator("header a[href='tel:+443001312789']").is_visible()
    await page.close()


async def test_the_whole_conversation_works_from_the_keyboard(served, page):
    await page.goto(served.url)
    await bot_says(page, CRISIS_LINE)
    # From the number at the top, Tab goes in reading order: 999, Quick exit, then the choices.
    # (The page puts the cursor in the message box on load, for people who just type.)
    await page.locator("header a[href='tel:+443001312789']").focus()
    order = []
    for _ in range(3):
        await page.keyboard.press("Tab")
        order.append(await page.evaluate("document.activeElement.textContent.trim()"))
    assert order == ["999", "Quick exit", "Call the crisis line now"]
    await page.keyboard.press("Enter")
    await bot_says(page, "counsellor")


async def test_a_welsh_conversation_with_a_call_back_and_a_switch_to_english(tmp_path, page):
    from tests.support import callback_receiver, eventually

    async with callback_receiver() as (url, received), serve(
        tmp_path, FRONTDOOR_LANGUAGES="en,cy", FRONTDOOR_QUICK_EXIT_URL="http://127.0.0.1:9/",
        FRONTDOOR_CALLBACK_WEBHOOK_URL=url, FRONTDOOR_CALLBACK_WEBHOOK_SECRET="callback-webhook-secret-0123456789",
    ) as s:
        await page.goto(s.url)
        await bot_says(page, CRISIS_LINE)
        await press(page, "^Cymraeg$")
        await bot_says(page, "Gwasanaeth awtomataidd")
        welsh = page.locator(".msg.bot", has_text="Gwasanaeth awtomataidd").last
        assert await welsh.get_attribute("lang") == "cy", "screen readers read Welsh replies as Welsh"
        assert await page.locator("#options").get_attribute("lang") == "cy"
        await press(page, "Gofyn am alwad")
        await bot_says(page, "Pa rif")
        await type_message(page, FAKE_MOBILE)
        await press(page, "Cyn gynted ag y bo modd")
        await press(page, "Ydy, mae neges llais yn iawn")
        await press(page, "Na, cadwch e'n breifat")
        await bot_says(page, "Gwiriwch eich cais")
        await press(page, "Ie, anfonwch e")
        await bot_says(page, "Mae eich cais gyda'r tîm")
        await eventually(lambda: received)
        assert b"7700900123" in received[0], "the crisis team has the request"
        await type_message(page, "English")
        await bot_says(page, "Your request is with the team")
        english = page.locator(".msg.bot", has_text="Your request is with the team").last
        assert await english.get_attribute("lang") == "en"

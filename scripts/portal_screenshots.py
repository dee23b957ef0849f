"""Screenshots of the public, patient and family pages at 360x740 (phone) and 1280x800, in each language.

Usage: .venv/bin/python scripts/portal_screenshots.py [BASE_URL] [OUT_DIR]
Needs the demo running (`make demo`) and /usr/bin/chromium. Writes test-artifacts/portal/*.png by default."""

from __future__ import annotations

import os
import sys

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = sys.argv[2] if len(sys.argv) > 2 else "test-artifacts/portal"
PASSWORD = os.environ.get("OPENIOP_DEMO_PASSWORD", "iop-demo-2026")
PUBLIC = {
    "program": "/programs/harborview/",
    "finder": "/programs/harborview/which-track/?age=34&focus=both&times=evening&modality=either",
    "refer": "/programs/harborview/refer/?track=adult-su-evening",
    "login": "/accounts/login/",
}
SIGNED_IN = {
    "patient1": {"today": "/portal/", "schedule": "/portal/schedule/", "messages": "/portal/messages/",
                 "settings": "/portal/settings/"},
    "family1": {"family-home": "/family/", "family-settings": "/portal/settings/"},
}  # fmt: skip
SIZES = ((360, 740, "phone"), (1280, 800, "wide"))
LANGUAGES = ("en", "es", "pt-br", "ht")


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for width, height, label in SIZES:
            for language in LANGUAGES:
                context = browser.new_context(viewport={"width": width, "height": height})
                context.add_cookies([{"name": "django_language", "value": language, "url": BASE}])
                page = context.new_page()
                for name, path in PUBLIC.items():
                    page.goto(BASE + path)
                    page.screenshot(path=f"{OUT}/{name}-{language}-{label}.png", full_page=True)
                for username, pages in SIGNED_IN.items():
                    page.goto(f"{BASE}/accounts/login/")
                    page.fill("#id_username", username)
                    page.fill("#id_password", PASSWORD)
                    with page.expect_navigation():
                        page.click("main button[type=submit]")
                    if username == "family1":
                        link = page.locator("ul.cards a").first
                        if link.count():
                            pages = {**pages, "family-patient": link.get_attribute("href") or "/family/"}
                    for name, path in pages.items():
                        page.goto(BASE + path)
                        page.screenshot(path=f"{OUT}/{name}-{language}-{label}.png", full_page=True)
                    page.context.clear_cookies()
                    context.add_cookies([{"name": "django_language", "value": language, "url": BASE}])
                context.close()
        browser.close()


if __name__ == "__main__":
    main()

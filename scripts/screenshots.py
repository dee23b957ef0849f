"""Sign in as each demo role and save a screenshot of the pages they see.

Usage: .venv/bin/python scripts/screenshots.py [BASE_URL] [OUT_DIR]
Needs the demo running (`make demo`) and /usr/bin/chromium."""

from __future__ import annotations

import os
import sys

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = sys.argv[2] if len(sys.argv) > 2 else "var/screenshots"
PASSWORD = os.environ.get("OPENIOP_DEMO_PASSWORD", "iop-demo-2026")
PAGES = {
    "director": [
        "/",
        "/program/dashboard/",
        "/safety/",
        "/program/integrations/",
        "/program/outbox/",
        "/program/patients/",
        "/program/people/",
        "/program/audit/",
        "/program/schedule/",
        "/program/schedule/clinicians/",
        "/program/dashboard/outcomes/",
        "/program/dashboard/billing/",
        "/patients/1/",
    ],
    "intake": ["/", "/intake/referrals/"],
    "clinician1": ["/", "/schedule/week/", "/schedule/availability/", "/progress/", "/rooms/", "/sessions/"],
    "patient1": ["/", "/portal/schedule/", "/me/treatment/", "/schedule/mine/"],
    "family1": ["/", "/family/patients/1/"],
}


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        for width, label in ((1280, "wide"), (360, "phone")):
            for username, paths in PAGES.items():
                page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
                page.goto(f"{BASE}/accounts/login/")
                if username == "director" and width == 1280:
                    page.screenshot(path=f"{OUT}/login-{label}.png", full_page=True)
                page.fill("#id_username", username)
                page.fill("#id_password", PASSWORD)
                page.click("main button[type=submit]")
                for index, path in enumerate(paths):
                    page.goto(BASE + path)
                    page.screenshot(path=f"{OUT}/{username}-{index}-{label}.png", full_page=True)
                page.context.close()
        browser.close()


if __name__ == "__main__":
    main()

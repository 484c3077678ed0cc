"""The console in a real browser: Debian's Chromium driven by playwright-core (tests/browser/),
against the connector on a loopback socket. Each scenario is a Node script; when one fails, a
screenshot of each page it reached is saved in the folder the failure names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveConnector, deliver_queued, offer
from tests.console_site import (
    ACME_CONSOLE,
    ADMIN_KEY,
    DIGITS,
    NUMBER,
    OTHER_CONSOLE,
    dead_letter,
    paused_account,
    start_site,
)
from tests.kaleyra_fake import FakeKaleyra
from tests.platform_cases import ACME_KEY

BROWSER_DIR = Path(__file__).parent / "browser"
CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium")


def run_scenario(name: str, site: LiveConnector, out: Path, **config: Any) -> str:
    """Run tests/browser/scenarios/<name>.mjs; its stdout on success, a failure otherwise."""
    if not Path(CHROMIUM).exists() or shutil.which("node") is None:
        pytest.fail(f"needs Node and Chromium at {CHROMIUM}: run ./scripts/test to install them")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").exists():
        pytest.fail("playwright-core is not installed: npm ci --prefix tests/browser")
    shots = out / f"screenshots-{name}"
    config_file = out / f"{name}.json"
    config_file.write_text(
        json.dumps(
            {"base_url": site.base_url, "out_dir": str(shots), "chromium": CHROMIUM, **config}
        )
    )
    done = subprocess.run(
        ["node", "run.mjs", name, str(config_file)],
        cwd=BROWSER_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if done.returncode != 0:
        pytest.fail(
            f"browser scenario {name} failed; screenshots of each page: {shots}\n"
            f"{done.stderr[-4000:]}",
            pytrace=False,
        )
    return done.stdout


@pytest.fixture
def site(
    start_connector: Callable[..., LiveConnector],
    kaleyra: FakeKaleyra,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> LiveConnector:
    return start_site(start_connector, kaleyra, tmp_path, monkeypatch)


def test_sign_in_with_the_keyboard_refuses_a_wrong_key_and_signs_out(
    site: LiveConnector, tmp_path: Path
) -> None:
    run_scenario(
        "sign_in",
        site,
        tmp_path,
        key=ACME_CONSOLE,
        who="connection acme",
        wrong_key="acme-console-key-7d1e9b3F",
    )


def test_an_invalid_offer_shows_each_error_at_its_field(
    site: LiveConnector, tmp_path: Path
) -> None:
    run_scenario("try_invalid", site, tmp_path, key=ACME_CONSOLE)
    assert site.runtime.store.count() == 0


def test_a_sandbox_send_is_found_in_the_list_with_its_timeline(
    site: LiveConnector, tmp_path: Path
) -> None:
    out = run_scenario(
        "send_sandbox", site, tmp_path, key=OTHER_CONSOLE, number=NUMBER, digits=DIGITS
    )
    event_id = json.loads(out.strip().splitlines()[-1])["event_id"]
    event = site.runtime.store.get(event_id)
    assert event is not None and event.status == "accepted" and event.sandbox
    assert (event.platform, event.wa_source, event.account) == ("console", "api", "other")
    assert event.payload["messaging_object"]["to"] == "+" + DIGITS


def test_a_dead_letter_is_replayed(
    site: LiveConnector, kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    event_id = dead_letter(site, kaleyra)
    run_scenario("replay_dead", site, tmp_path, key=ACME_CONSOLE, event_id=event_id)
    event = site.runtime.store.get(event_id)
    assert event is not None and event.status == "queued"
    deliver_queued(site)
    event = site.runtime.store.get(event_id)
    assert event is not None and event.status == "accepted" and len(kaleyra.sent) == 1


def test_a_paused_account_is_resumed(
    site: LiveConnector, kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    waiting = paused_account(site, kaleyra)
    run_scenario("resume_paused", site, tmp_path, key=ADMIN_KEY, account="acme", queued=1)
    assert site.runtime.accounts.paused() == {}
    deliver_queued(site)
    event = site.runtime.store.get(waiting)
    assert event is not None and event.status == "accepted"


def test_a_forged_csrf_token_is_refused(
    site: LiveConnector, kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    event_id = dead_letter(site, kaleyra)
    run_scenario("forged_csrf", site, tmp_path, key=ADMIN_KEY, event_id=event_id)
    event = site.runtime.store.get(event_id)
    assert event is not None and event.status == "dead"


def test_screenshots_of_the_main_pages(
    site: LiveConnector, kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    """The README's pictures, from fake data. ``UPDATE_SCREENSHOTS=1`` writes them to
    docs/screenshots/; otherwise they go to a temporary folder and are only checked."""
    for n, name in enumerate(("Asha", "Ravi", "Meera", "Kabir")):
        answer = site.post(
            "/hooks/zapier" if n % 2 else "/v1/messages",
            key=ACME_KEY,
            json=offer(to=f"+91 98765 4321{n}", body_params=[name, "20%"]),
        )
        assert answer.status_code == 202, answer.text
    dead_id = dead_letter(site, kaleyra, to="+91 98765 43219", body_params=["Ishaan", "20%"])
    paused_account(site, kaleyra)
    target = tmp_path / "shots"
    run_scenario(
        "screenshots",
        site,
        tmp_path,
        key=ADMIN_KEY,
        dead_id=dead_id,
        number=NUMBER,
        image="https://cdn.example.com/summer.png",
        shots=str(target),
        width=1100,
        height=760,
    )
    pictures = sorted(p.name for p in target.iterdir())
    assert pictures == ["health.png", "message.png", "messages.png", "sign-in.png", "try.png"]
    for picture in target.iterdir():
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 5000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        docs = Path(__file__).parent.parent / "docs" / "screenshots"
        docs.mkdir(parents=True, exist_ok=True)
        for picture in target.iterdir():
            shutil.copy(picture, docs / picture.name)

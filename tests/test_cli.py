"""The lto-connector command as a user runs it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import offer
from tests.kaleyra_fake import API_KEY, SENDER, FakeKaleyra
from tests.served import CLI, kaleyra_env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def sandbox_env(tmp_path: Path) -> dict[str, str]:
    env = kaleyra_env(FakeKaleyra(), f"sqlite:///{tmp_path}/events.db")
    for name in ("KALEYRA_SID", "KALEYRA_API_KEY", "KALEYRA_SENDER", "KALEYRA_BASE_URL"):
        env.pop(name)
    return env


def test_check_prints_the_exact_request_without_sending(
    kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    env = kaleyra_env(kaleyra, f"sqlite:///{tmp_path}/events.db")
    done = run(
        [
            "check",
            "--to",
            "98765 43210",
            "--template",
            "lto_summer",
            "--body",
            "Asha",
            "--expires-in",
            "2d",
            "--coupon",
            "SAVE10",
            "--source",
            "zapier",
        ],
        env,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)
    assert request["url"] == f"{kaleyra.base_url}/whatsapp/{SENDER}/messages"
    assert request["headers"]["api-key"] == "****" and API_KEY not in done.stdout
    assert request["json"]["messaging_object"]["to"] == "+919876543210"
    assert request["json"]["extra_info"]["wa_source"] == "zapier"
    assert kaleyra.requests == []


def test_check_reports_bad_input_and_exits_non_zero(tmp_path: Path) -> None:
    done = run(["check", "--to", "12", "--template", "Bad Name"], sandbox_env(tmp_path), tmp_path)
    assert done.returncode == 1
    assert set(json.loads(done.stdout)["errors"]) == {"to", "template_name"}


def test_send_from_a_file_then_events_lists_it_masked(kaleyra: FakeKaleyra, tmp_path: Path) -> None:
    env = kaleyra_env(kaleyra, f"sqlite:///{tmp_path}/events.db")
    path = tmp_path / "offer.json"
    path.write_text(json.dumps(offer()))
    sent = run(["send", "--file", str(path), "--coupon", "FLAG10"], env, tmp_path)
    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)
    [request] = kaleyra.sent
    assert result["message_id"] == request.message_id
    assert (
        request.json["messaging_object"]["template"]["components"][3]["parameters"][0][
            "coupon_code"
        ]
        == "FLAG10"
    )
    listed = run(["events", "--json"], env, tmp_path)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["id"], r["status"], r["to"]) for r in rows] == [
        (result["id"], "accepted", "********3210")
    ]
    assert "9876543210" not in listed.stdout


def test_send_reports_kaleyra_refusal(kaleyra: FakeKaleyra, tmp_path: Path) -> None:
    kaleyra.then("E110")
    env = kaleyra_env(kaleyra, f"sqlite:///{tmp_path}/events.db")
    done = run(["send", "--to", "+919876543210", "--template", "lto_summer"], env, tmp_path)
    assert done.returncode == 1
    assert json.loads(done.stdout)["code"] == "kaleyra_low_balance"


def test_sandbox_send_works_with_no_settings(tmp_path: Path) -> None:
    done = run(
        ["send", "--to", "+919876543210", "--template", "lto_summer"],
        sandbox_env(tmp_path),
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["message_id"].startswith("sandbox-")


def test_invalid_configuration_stops_with_every_problem(tmp_path: Path) -> None:
    env: dict[str, Any] = sandbox_env(tmp_path) | {"KALEYRA_SID": "S1", "KALEYRA_POD": "us"}
    done = run(["serve"], env, tmp_path)
    assert done.returncode == 2
    assert "KALEYRA_API_KEY" in done.stderr and "KALEYRA_POD" in done.stderr


def test_offer_files_with_a_bom_work_and_broken_ones_are_named(tmp_path: Path) -> None:
    env = sandbox_env(tmp_path)
    good = tmp_path / "bom.json"
    good.write_bytes(b"\xef\xbb\xbf" + json.dumps(offer()).encode())
    assert run(["check", "--file", str(good)], env, tmp_path).returncode == 0
    broken = tmp_path / "broken.json"
    broken.write_text('{"to": ')
    done = run(["check", "--file", str(broken)], env, tmp_path)
    assert done.returncode == 2 and "--file" in done.stderr and "not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr

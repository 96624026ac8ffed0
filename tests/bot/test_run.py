"""`ccm-bot run` with no settings at all starts on SQLite and the outbox and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def test_run_on_embedded_defaults_says_where_things_are(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCM_", "SLACK_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    try:
        for line in process.stdout:
            lines.append(line.rstrip())
            if "is running" in line:
                break
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, "\n".join(lines) + rest
    head = "\n".join(lines)
    assert f"database: SQLite file {tmp_path / 'ccm-bot.db'}" in head
    assert f"outgoing mail: written as .eml files to {tmp_path / 'outbox'}" in head
    assert "Slack: off until SLACK_BOT_TOKEN" in head
    assert (tmp_path / "ccm-bot.db").exists()
    assert "ccm-bot stopped." in rest

"""Cold start: process start → first answer, for the CLI and for the page.

CLI: wall time of `partnerbot ask` in a fresh process (and of `partnerbot --help`, the import floor).
Page: `streamlit run app.py` → /_stcore/health answers → chromium (playwright) opens the page, asks, and the
answer text appears; all times from the spawn of streamlit. Also a fresh process running Streamlit's AppTest
(no HTTP, no browser) from its start to the rendered answer.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from statistics import median

from partnerbot.settings import PROJECT_ROOT

from .common import corpus_store

QUESTION = "Can a contractor be a strategic partner?"
ANSWER_START = "Yes, with nuance"
CHROMIUM = Path("/usr/bin/chromium")
BIN = Path(sys.executable).parent


def _env(store: Path) -> dict:
    return {**os.environ, "PARTNERBOT_STORE": str(store), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false"}


def _wall(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    return time.perf_counter() - started


def cli(runs: int = 3) -> dict:
    store = corpus_store().store
    env = _env(store)
    ask = [str(BIN / "partnerbot"), "ask", QUESTION]
    help_ = [str(BIN / "partnerbot"), "--help"]
    _wall(ask, env)  # page cache warm: we measure process start, not a cold disk
    return {"ask_s": round(median(_wall(ask, env) for _ in range(runs)), 2),
            "help_s": round(median(_wall(help_, env) for _ in range(runs)), 2), "runs": runs}


APPTEST = f"""
import time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(PROJECT_ROOT / "app.py")!r}, default_timeout=300)
at.run()
at.chat_input[0].set_value({QUESTION!r}).run()
text = " ".join(m.value for m in at.markdown)
assert {ANSWER_START!r} in text, text[:500]
print("answered", time.time())
"""


def apptest(runs: int = 2) -> dict:
    env = _env(corpus_store().store)
    times = []
    for _ in range(runs):
        started = time.time()
        out = subprocess.run([sys.executable, "-c", APPTEST], env=env, capture_output=True, text=True, timeout=300,
                             cwd=PROJECT_ROOT)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-1500:])
        times.append(float(out.stdout.split("answered", 1)[1]) - started)
    return {"first_answer_s": round(median(times), 2), "runs": runs}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser() -> dict:
    """streamlit run + a real chromium asking one question."""
    if not CHROMIUM.exists():
        return {"skipped": "no /usr/bin/chromium (apt-get install chromium)"}
    from playwright.sync_api import sync_playwright

    env = _env(corpus_store().store)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"),
                             "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None or time.perf_counter() - started > 300:
                raise RuntimeError("streamlit did not start")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                time.sleep(0.1)
        healthy = time.perf_counter() - started
        with sync_playwright() as p:
            chrome = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                       args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            try:
                page = chrome.new_page()
                page.set_default_timeout(300_000)
                page.goto(url)
                box = page.get_by_test_id("stChatInputTextArea")
                box.wait_for()
                ready = time.perf_counter() - started
                box.fill(QUESTION)
                box.press("Enter")
                page.get_by_test_id("stChatMessage").nth(1).get_by_text(ANSWER_START, exact=False).first.wait_for()
                answered = time.perf_counter() - started
            finally:
                chrome.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"health_ok_s": round(healthy, 2), "page_ready_s": round(ready, 2), "first_answer_s": round(answered, 2)}

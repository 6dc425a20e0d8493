"""A classroom at once: N browser sessions open the chat and the explorer of one real `streamlit run` server.

`python -m bench.classroom [--sessions 30] [--limit 600]` starts the server on a free loopback port (on a copy
of the corpus store), opens N playwright contexts in one headless chromium, and in every context at the same
moment: opens the chat page, asks its own question, waits for the answer and its source cards, then opens
/explore and waits for the four charts. It reports time to answer (Enter → answer on screen) and to the
explorer's charts (p50/p95/max), the server's memory (RSS of the process, sampled every 0.5 s), errors, and
whether any session saw another's conversation. Bounded: the whole run stops after --limit seconds.
The browsers share the 2 cores with the server, so the times are pessimistic for a real room.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from partnerbot.settings import PROJECT_ROOT

from .common import WORK, corpus_store, machine, save, stats

CHROMIUM = "/usr/bin/chromium"
QUESTIONS = ("Can a contractor be a strategic partner?", "Who holds final responsibility?",
             "What are the four stages?", "Is Glick's range a maturity model?",
             "Kan een opdrachtnemer een strategische partner zijn?", "Wie heeft de eindverantwoordelijkheid?",
             "What defines a customer relationship?", "What is a RASCI matrix?", "Why not make everyone a partner?",
             "What is the difference between a client and a customer?")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


class Sampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            try:
                self.samples.append(_rss_mib(self.pid))
            except (OSError, StopIteration):
                return


def start_server(store: Path, log: Path, options: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free loopback port; options are more `--section.name value` arguments."""
    port = _free_port()
    env = {**os.environ, "PARTNERBOT_STORE": str(store), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", "PARTNERBOT_UPLOAD_DIR": str(store.parent / "uploads")}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             *options],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not start: {log.read_text()[-1000:]}")


async def session(browser, url: str, number: int, result: dict) -> None:
    """One student: chat question → answer with cards; then the explorer's four charts."""
    question = f"{QUESTIONS[number % len(QUESTIONS)]}"
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(180_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        began = time.perf_counter()
        await page.goto(url)
        box = page.get_by_test_id("stChatInputTextArea")
        await box.wait_for()
        result["chat_load"] = time.perf_counter() - began
        await box.fill(question)
        asked = time.perf_counter()
        await box.press("Enter")
        messages = page.get_by_test_id("stChatMessage")
        await messages.nth(1).get_by_text("[1]", exact=False).first.wait_for()
        result["answer"] = time.perf_counter() - asked
        users = await page.locator("[data-testid=stChatMessage]:has([data-testid=stChatMessageAvatarUser]) "
                                   "[data-testid=stMarkdownContainer]").all_inner_texts()
        texts = [" ".join(t.split()) for t in users]
        result["own_conversation"] = texts == [question]
        if not result["own_conversation"]:
            result["seen"] = texts
        began = time.perf_counter()
        await page.goto(f"{url}/explore")
        await page.get_by_test_id("stVegaLiteChart").nth(3).wait_for()
        await page.wait_for_function("() => document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, "
                                     "[data-testid=stVegaLiteChart] svg.marks').length >= 4")
        result["explore"] = time.perf_counter() - began
        result["ok"] = True
    except Exception as exc:  # reported per session, not raised: the room carries on
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    finally:
        result["page_errors"] = errors
        await context.close()


async def classroom(url: str, sessions: int, limit: float) -> list[dict]:
    from playwright.async_api import async_playwright

    results = [{"session": n} for n in range(sessions)]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            await asyncio.wait_for(asyncio.gather(*(session(browser, url, n, results[n])
                                                    for n in range(sessions))), timeout=limit)
        except asyncio.TimeoutError:
            for r in results:
                r.setdefault("error", f"not finished within the {limit:.0f}s limit")
        finally:
            await browser.close()
    return results


def run(sessions: int = 30, limit: float = 600) -> dict:
    if not Path(CHROMIUM).exists():
        raise SystemExit("chromium missing: apt-get install -y chromium")
    source = corpus_store()
    store = WORK / "classroom" / "store"
    shutil.rmtree(store.parent, ignore_errors=True)
    store.parent.mkdir(parents=True)
    shutil.copytree(source.store, store)
    log = store.parent / "streamlit.log"
    proc, url = start_server(store, log)
    sampler = Sampler(proc.pid)
    try:
        idle = _rss_mib(proc.pid)
        sampler.start()
        began = time.perf_counter()
        results = asyncio.run(classroom(url, sessions, limit))
        wall = time.perf_counter() - began
        after = _rss_mib(proc.pid)
    finally:
        sampler.stop.set()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    ok = [r for r in results if r.get("ok")]
    server_errors = [line for line in log.read_text(errors="replace").splitlines()
                     if "Traceback" in line or "Error" in line]
    return {
        "machine": machine(), "sessions": sessions, "completed": len(ok), "wall_s": round(wall, 1),
        "answer_ms": stats([r["answer"] for r in ok]) if ok else None,
        "chat_load_ms": stats([r["chat_load"] for r in ok]) if ok else None,
        "explore_ms": stats([r["explore"] for r in ok]) if ok else None,
        "server_rss_mib": {"before": round(idle, 1), "peak": round(max(sampler.samples, default=idle), 1),
                           "after": round(after, 1)},
        "errors": [r["error"] for r in results if "error" in r],
        "page_errors": sum(len(r["page_errors"]) for r in results),
        "server_log_errors": server_errors[:10],
        "saw_another_conversation": [r for r in results if r.get("own_conversation") is False],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--limit", type=float, default=600, help="stop the whole run after this many seconds")
    args = parser.parse_args()
    result = run(args.sessions, args.limit)
    print(json.dumps(result, indent=2))
    print(f"saved {save('classroom', result)}")


if __name__ == "__main__":
    main()

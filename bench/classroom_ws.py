"""A classroom at once, server only: N websocket clients speak Streamlit's own protocol to one `streamlit run`.

`python -m bench.classroom_ws [--sessions 30] [--limit 300] [--warm] [--server-option runner.postScriptGC=false]`
starts the server as `bench.classroom`
does (loopback, a copy of the corpus store) but replaces the browsers by light clients, so the 2 cores go to
the server. Every session, all at the same moment, does what a browser does on the wire:
  1. page open: GET `/`, `/_stcore/health`, `/_stcore/host-config` and the files index.html references (the
     browser's first, uncached visit), then opens ws://…/_stcore/stream (subprotocol "streamlit") and sends
     BackMsg.rerun_script with no widget state; it waits for the chat_input delta and the run's end
     (ForwardMsg.script_finished);
  2. asks its own question: rerun_script whose widget_states hold the chat input's id (from the delta) with a
     chat_input_value, like the frontend on Enter; waits for source card [1] and the run's end;
  3. switches to the explorer: rerun_script with the explorer's page_script_hash (from the navigation message),
     like a click on the page link; waits for the four vega_lite_chart deltas and the run's end.
Questions are tagged "(student NN)" (the tag does not change the rules answer). A session has seen another's
conversation when any payload it received carries another tag; the answers of sessions that asked the same
question must be identical. Reported: p50/p95/max of each step, the server's RSS (sampled every 0.5 s) and
CPU seconds, this client's CPU seconds and what the rest of the machine used meanwhile, errors. Bounded by
--limit. --warm runs one session first (the lecturer trying the app before class: the model is loaded);
--server-option passes `--section.name value` to `streamlit run` (e.g. to try a setting).
What the browser adds on top (rendering the deltas, the lazily loaded chart code) is not measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .classroom import QUESTIONS, Sampler, _rss_mib, start_server
from partnerbot.settings import PROJECT_ROOT

from .common import WORK, corpus_store, machine, save, stats

TAG = re.compile(rb"student (\d+)")
ASSET = re.compile(r'(?:src|href)="\./(static/[^"]+)"')
CARD = "**\\[1\\]"  # how partnerbot.page.source_card starts card [1] (escaped Markdown)
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_s() -> float:
    """CPU seconds all cores spent on anything but idle and I/O wait since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / TICK


def _fetch(url: str) -> int:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return len(response.read())


def page_files(url: str) -> list[str]:
    """What a browser fetches before it opens the websocket (index.html's own references, not lazy chunks)."""
    with urllib.request.urlopen(f"{url}/", timeout=60) as response:
        html = response.read().decode()
    return [f"{url}/", f"{url}/_stcore/health", f"{url}/_stcore/host-config"] + [
        f"{url}/{path}" for path in dict.fromkeys(ASSET.findall(html))]


class Student:
    def __init__(self, number: int):
        self.number = number
        self.question = f"{QUESTIONS[number % len(QUESTIONS)]} (student {number:02d})"
        self.tags: set[int] = set()
        self.result: dict = {"session": number, "base": number % len(QUESTIONS), "server_errors": []}

    async def rerun(self, ws, want, need: int = 1, page: str = "", widget: tuple[str, str] | None = None):
        """Send rerun_script; read until the run finishes. Returns (when `need` messages matched `want`, when the
        run finished, the messages), as perf_counter times."""
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        back = BackMsg()
        state = back.rerun_script
        state.page_script_hash = page
        state.context_info.timezone, state.context_info.locale = "Europe/Amsterdam", "nl-NL"
        if widget:
            item = state.widget_states.widgets.add()
            item.id, item.chat_input_value.data = widget
        await ws.send(back.SerializeToString())
        messages, matched, shown = [], 0, None
        while True:
            raw = await ws.recv()
            self.tags.update(int(n) for n in TAG.findall(raw))
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            messages.append(msg)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "exception" or (element.WhichOneof("type") == "alert"
                                                                  and element.alert.format == Alert.ERROR):
                    self.result["server_errors"].append(str(element)[:300])
            if shown is None and want(msg):
                matched += 1
                if matched >= need:
                    shown = time.perf_counter()
            if kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return shown, time.perf_counter(), messages
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise RuntimeError("script finished with a compile error")

    async def run(self, url: str, pool: ThreadPoolExecutor, files: list[str]) -> None:
        from websockets.asyncio.client import connect

        r = self.result
        loop = asyncio.get_running_loop()
        try:
            began = time.perf_counter()
            r["static_bytes"] = sum(await asyncio.gather(*(loop.run_in_executor(pool, _fetch, f) for f in files)))
            r["static"] = time.perf_counter() - began
            async with connect(url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"],
                               max_size=None, open_timeout=None, ping_interval=None, close_timeout=2) as ws:
                shown, done, messages = await self.rerun(ws, lambda m: _element(m) == "chat_input")
                r["chat_input"], r["chat_load"] = shown - began, done - began
                chat_id = next(m.delta.new_element.chat_input.id for m in messages if _element(m) == "chat_input")
                nav = [m.navigation for m in messages if m.WhichOneof("type") == "navigation"][-1]
                explorer = next(p.page_script_hash for p in nav.app_pages if p.url_pathname == "explore")

                asked = time.perf_counter()
                shown, done, messages = await self.rerun(ws, _card, page=nav.page_script_hash,
                                                         widget=(chat_id, self.question))
                if shown is None:
                    raise RuntimeError("the answer came without source card [1]")
                r["answer"], r["answer_run"] = shown - asked, done - asked
                r["answer_text"] = _answer(messages)

                began = time.perf_counter()
                shown, done, _ = await self.rerun(ws, lambda m: _element(m) == "vega_lite_chart", need=4,
                                                  page=explorer)
                if shown is None:
                    raise RuntimeError("the explorer ran without its four charts")
                r["explore"], r["explore_run"] = shown - began, done - began
            r["ok"] = True
        except Exception as exc:  # reported per session, not raised: the room carries on
            r["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"


def _commit() -> str:
    """HEAD, marked "+changes" when tracked files differ from it (the server runs the work tree)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + ("+changes" if git("status", "--porcelain", "-uno") else "")


def _element(msg) -> str | None:
    if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
        return msg.delta.new_element.WhichOneof("type")
    return None


def _card(msg) -> bool:
    return _element(msg) == "markdown" and msg.delta.new_element.markdown.body.startswith(CARD)


def _answer(messages) -> str:
    """The Markdown under the last assistant chat message (answer text, captions, cards), in screen order."""
    blocks = [tuple(m.metadata.delta_path) for m in messages if m.WhichOneof("type") == "delta"
              and m.delta.WhichOneof("type") == "add_block" and m.delta.add_block.chat_message.name == "assistant"]
    if not blocks:
        return ""
    bodies = {tuple(m.metadata.delta_path): m.delta.new_element.markdown.body for m in messages
              if _element(m) == "markdown" and tuple(m.metadata.delta_path)[:len(blocks[-1])] == blocks[-1]}
    return "\n".join(bodies[path] for path in sorted(bodies))


async def classroom(url: str, students: list[Student], limit: float) -> None:
    files = await asyncio.to_thread(page_files, url)
    with ThreadPoolExecutor(max_workers=min(64, 6 * len(students))) as pool:
        tasks = [asyncio.ensure_future(s.run(url, pool, files)) for s in students]
        done, pending = await asyncio.wait(tasks, timeout=limit)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for s in students:
        if not s.result.get("ok"):
            s.result.setdefault("error", f"not finished within the {limit:.0f}s limit")


def run(sessions: int = 30, limit: float = 300, warm: bool = False, options: tuple[str, ...] = ()) -> dict:
    source = corpus_store()
    store = WORK / "classroom_ws" / "store"
    shutil.rmtree(store.parent, ignore_errors=True)
    store.parent.mkdir(parents=True)
    shutil.copytree(source.store, store)
    log = store.parent / "streamlit.log"
    flags = tuple(arg for option in options for arg in (f"--{option.split('=', 1)[0]}", option.split("=", 1)[1]))
    proc, url = start_server(store, log, flags)
    sampler = Sampler(proc.pid)
    students = [Student(n) for n in range(sessions)]
    try:
        if warm:
            lecturer = Student(99)
            asyncio.run(classroom(url, [lecturer], limit))
            if not lecturer.result.get("ok"):
                raise RuntimeError(f"warm-up session failed: {lecturer.result.get('error')}")
        idle = _rss_mib(proc.pid)
        load_before = os.getloadavg()
        cpu_server, cpu_client, busy = cpu_s(proc.pid), cpu_s(), machine_busy_s()
        sampler.start()
        began = time.perf_counter()
        asyncio.run(classroom(url, students, limit))
        wall = time.perf_counter() - began
        cpu_server, cpu_client = cpu_s(proc.pid) - cpu_server, cpu_s() - cpu_client
        busy = machine_busy_s() - busy
        after = _rss_mib(proc.pid)
    finally:
        sampler.stop.set()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    results = [s.result for s in students]
    ok = [r for r in results if r.get("ok")]
    answers: dict[int, set[str]] = {}
    for r in ok:
        answers.setdefault(r["base"], set()).add(r["answer_text"])
    crossed = [{"session": s.number, "saw": sorted(s.tags - {s.number})} for s in students
               if s.tags - {s.number} or (s.result.get("answer") is not None and s.number not in s.tags)]
    log_errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line
                  or "Error" in line]

    def ms(key: str) -> dict | None:
        return stats([r[key] for r in ok]) if ok else None

    return {
        "machine": machine(), "clients": "websocket", "sessions": sessions, "warm": warm,
        "server_options": list(options), "commit": _commit(), "completed": len(ok), "wall_s": round(wall, 1),
        "load_avg_before": [round(x, 2) for x in load_before],
        "static_ms": ms("static"), "static_kib_per_session": round(ok[0]["static_bytes"] / 1024) if ok else None,
        "chat_input_ms": ms("chat_input"), "chat_load_ms": ms("chat_load"),
        "answer_ms": ms("answer"), "answer_run_ms": ms("answer_run"),
        "explore_ms": ms("explore"), "explore_run_ms": ms("explore_run"),
        "cpu_s": {"server": round(cpu_server, 1), "client": round(cpu_client, 1),
                  "rest_of_machine": round(busy - cpu_server - cpu_client, 1), "cores": os.cpu_count()},
        "server_rss_mib": {"before": round(idle, 1), "peak": round(max(sampler.samples, default=idle), 1),
                           "after": round(after, 1)},
        "errors": [r["error"] for r in results if "error" in r],
        "errors_on_page": [e for r in results for e in r["server_errors"]][:10],
        "server_log_errors": log_errors[:10],
        "saw_another_conversation": crossed,
        "answers_per_question": {QUESTIONS[b]: len(texts) for b, texts in sorted(answers.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--limit", type=float, default=300, help="stop the whole run after this many seconds")
    parser.add_argument("--warm", action="store_true", help="one session first, so the model is loaded")
    parser.add_argument("--server-option", action="append", default=[], metavar="SECTION.NAME=VALUE")
    parser.add_argument("--name", default=None, help="bench/out/NAME.json (default classroom_ws_N[_warm])")
    args = parser.parse_args()
    result = run(args.sessions, args.limit, args.warm, tuple(args.server_option))
    print(json.dumps(result, indent=2, ensure_ascii=False))
    name = args.name or f"classroom_ws_{args.sessions}{'_warm' if args.warm else ''}"
    print(f"saved {save(name, result)}")


if __name__ == "__main__":
    main()

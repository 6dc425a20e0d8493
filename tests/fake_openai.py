"""A small OpenAI-compatible chat server for tests: loopback only, a queue of scripted replies, every request recorded.

    with FakeOpenAI() as fake:
        fake.add(Reply("Contractors execute the work. [1]"), Reply(status=429, headers={"Retry-After": "1"}))
        settings = get_settings(..., llm_base_url=fake.base_url)

POST /v1/chat/completions answers non-streaming (one JSON body) or streaming (SSE `data: {...}` chunks, then
`data: [DONE]`) as the request's "stream" flag asks. An empty queue answers 500 "no scripted reply", so a test
that makes more calls than it scripted fails visibly.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

PASSAGE_RX = re.compile(r"<passage id=(\d+)([^>]*)>\n?(.*?)\n?</passage>", re.S)


@dataclass
class Reply:
    """One scripted reply. `content` may be a function of the recorded request (to echo or cite what was sent)."""

    content: str | Callable[[dict], str] | None = None
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: str | None = None            # raw body instead of a chat completion (malformed JSON, error bodies)
    delay: float = 0.0                 # seconds before the status line is sent
    chunk_size: int = 12               # characters per streamed chunk
    stall: float = 0.0                 # streaming: seconds of silence after the first half of the chunks


@dataclass
class Recorded:
    path: str
    headers: dict
    json: dict | None
    received: float = 0.0              # time.monotonic() when the request arrived

    @property
    def messages(self) -> list[dict]:
        return (self.json or {}).get("messages", [])

    def content_of(self, role: str) -> str:
        return "\n".join(m.get("content") or "" for m in self.messages if m.get("role") == role)

    def passages(self) -> dict[int, str]:
        """The passages sent in the user message, by their number."""
        return {int(n): text for n, _attrs, text in PASSAGE_RX.findall(self.content_of("user"))}

    def passage_attrs(self) -> dict[int, str]:
        return {int(n): attrs for n, attrs, _text in PASSAGE_RX.findall(self.content_of("user"))}


class FakeOpenAI:
    def __init__(self):
        self.replies: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._released = threading.Event()   # set on stop: delayed replies stop waiting
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.server.handle_error = lambda request, address: None  # a client that hung up is not a test failure
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle ------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    def add(self, *replies: Reply) -> "FakeOpenAI":
        self.replies.extend(replies)
        return self

    # --- serving --------------------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        try:
            payload = json.loads(raw or b"null")
        except ValueError:
            payload = None
        recorded = Recorded(handler.path, {k.lower(): v for k, v in handler.headers.items()}, payload, time.monotonic())
        self.requests.append(recorded)
        reply = self.replies.popleft() if self.replies else Reply(status=500, body='{"error": {"message": "no scripted reply"}}')
        if reply.delay and self._released.wait(reply.delay):
            return
        if not handler.path.endswith("/chat/completions"):
            reply = Reply(status=404, body='{"error": {"message": "unknown path"}}')
        content = reply.content(payload) if callable(reply.content) else reply.content
        streaming = bool(payload and payload.get("stream"))
        if reply.body is not None or reply.status != 200:
            self._send(handler, reply.status, reply.headers, reply.body or '{"error": {"message": "scripted error"}}')
        elif streaming:
            self._send_stream(handler, reply, content or "")
        else:
            self._send(handler, 200, reply.headers, json.dumps(completion(content or "", payload)))

    @staticmethod
    def _send(handler, status: int, headers: dict, body: str) -> None:
        data = body.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _send_stream(self, handler, reply: Reply, content: str) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()   # HTTP/1.0 without Content-Length: the body ends when the connection closes
        pieces = [content[i:i + reply.chunk_size] for i in range(0, len(content), reply.chunk_size)]
        for i, piece in enumerate(pieces):
            if reply.stall and i == len(pieces) // 2 and self._released.wait(reply.stall):
                return
            handler.wfile.write(sse(chunk({"content": piece}, None)))
            handler.wfile.flush()
        handler.wfile.write(sse(chunk({}, "stop")))
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()


def completion(content: str, request: dict | None) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": (request or {}).get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def chunk(delta: dict, finish_reason: str | None) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


def sse(data: dict) -> bytes:
    return f"data: {json.dumps(data)}\n\n".encode("utf-8")

"""A real local HTTP server speaking the OpenAI chat-completions protocol.

It answers like a tiny keyword "LLM" over the prompt's numbered sentences, and
can be scripted to fail first (HTTP 500/400, garbage, unknown ordinals) so the
client's retries, validation and accounting are exercised over the wire.
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEYWORDS = {1: "battery", 2: "price", 3: "ship"}
_SENTENCE = re.compile(r"^\[(\d+)\] (.*)$", re.M)


class FakeLLM:
    def __init__(self, script: list[str] | None = None, delay: float = 0.0):
        self.script = list(script or [])
        self.delay = delay
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, prompt: str, mode: str) -> tuple[int, str]:
        sentences = _SENTENCE.findall(prompt)
        if mode == "garbage":
            return 200, "Sure! Here are the viewpoints you asked for."
        results = [{"id": int(i), "viewpoints": [o for o, k in KEYWORDS.items() if k in text.lower()]}
                   for i, text in sentences]
        if mode == "unknown_ordinal":
            results[0]["viewpoints"] = [99]
        return 200, "```json\n" + json.dumps({"results": results}) + "\n```"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.requests.append(body)
                    mode = fake.script.pop(0) if fake.script else "ok"
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    time.sleep(fake.delay)
                    if mode in ("500", "400", "429"):
                        self._send(int(mode), {"error": {"message": f"scripted {mode}", "type": "server_error"}})
                        return
                    prompt = body["messages"][-1]["content"]
                    _, content = fake.answer(prompt, mode)
                    self._send(200, {
                        "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": content}}],
                        "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": len(content.split()),
                                  "total_tokens": len(prompt.split()) + len(content.split())},
                    })
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _send(self, code: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

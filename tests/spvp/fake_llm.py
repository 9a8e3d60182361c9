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

from tests.local_http import LocalJsonServer

KEYWORDS = {1: "battery", 2: "price", 3: "ship"}
_SENTENCE = re.compile(r"^\[(\d+)\] (.*)$", re.M)


class FakeLLM(LocalJsonServer):
    def __init__(self, script: list[str] | None = None, delay: float = 0.0):
        self.script = list(script or [])
        self.delay = delay
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        super().__init__()

    def answer(self, prompt: str, mode: str) -> tuple[int, str]:
        sentences = _SENTENCE.findall(prompt)
        if mode == "garbage":
            return 200, "Sure! Here are the viewpoints you asked for."
        results = [
            {"id": int(i), "viewpoints": [o for o, k in KEYWORDS.items() if k in text.lower()]} for i, text in sentences
        ]
        if mode == "unknown_ordinal":
            results[0]["viewpoints"] = [99]
        return 200, "```json\n" + json.dumps({"results": results}) + "\n```"

    def respond(self, method, path, headers, body):
        with self._lock:
            self.requests.append(body)
            mode = self.script.pop(0) if self.script else "ok"
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if mode in ("500", "400", "429"):
                return int(mode), {"error": {"message": f"scripted {mode}", "type": "server_error"}}
            prompt = body["messages"][-1]["content"]
            _, content = self.answer(prompt, mode)
            return 200, {
                "id": "cmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
                ],
                "usage": {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": len(content.split()),
                    "total_tokens": len(prompt.split()) + len(content.split()),
                },
            }
        finally:
            with self._lock:
                self.in_flight -= 1

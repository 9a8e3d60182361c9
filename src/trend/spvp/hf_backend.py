"""Qwen through ``transformers`` from a local model directory (never downloads).

Prompts of ``sentences_per_prompt`` sentences are generated ``prompts_per_batch``
at a time with left padding and greedy decoding. Greedy output is deterministic,
so an invalid answer is not retried: it raises InvalidLLMOutput (the router may
fall back to the offline decision when configured to).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trend.spvp.prompting import LLMRequestFailed, TokenUsage, build_messages, parse_answer
from trend.spvp.viewpoints import ViewpointCategory


@dataclass(frozen=True)
class TransformersSettings:
    model_dir: str = ""
    sentences_per_prompt: int = 8
    prompts_per_batch: int = 4
    max_new_tokens: int = 256
    device: str = "cpu"


class TransformersMapper:
    name = "transformers"

    def __init__(self, category: ViewpointCategory, settings: TransformersSettings):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(settings.model_dir)
        if not settings.model_dir or not path.is_dir():
            raise LLMRequestFailed(f"transformers model directory {settings.model_dir!r} does not exist")
        self.category = category
        self.settings = settings
        self.usage = TokenUsage()
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
        # transformers wraps PreTrainedModel.to with functools.wraps, which mypy reads as unbound
        self.model = model.to(settings.device)  # type: ignore[arg-type]
        self.model.eval()

    def map(self, texts: Sequence[str]) -> list[set[int]]:
        size = max(1, self.settings.sentences_per_prompt)
        chunks = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        out: list[set[int]] = []
        step = max(1, self.settings.prompts_per_batch)
        for i in range(0, len(chunks), step):
            group = chunks[i : i + step]
            for chunk, raw in zip(group, self.generate([build_messages(self.category, c) for c in group])):
                out.extend(parse_answer(raw, self.category.ordinals, len(chunk)))
        return out

    def generate(self, conversations: list[list[dict[str, str]]]) -> list[str]:
        """Batched greedy generation; returns the decoded completions."""
        import torch

        prompts = [
            self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations
        ]
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True).to(self.settings.device)
        with torch.no_grad():
            generated = self.model.generate(
                **enc,
                max_new_tokens=self.settings.max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        new = generated[:, enc["input_ids"].shape[1] :]
        for row_mask, row_new in zip(enc["attention_mask"], new):
            produced = int((row_new != self.tokenizer.pad_token_id).sum())
            self.usage.add(int(row_mask.sum()), produced)
        return self.tokenizer.batch_decode(new, skip_special_tokens=True)

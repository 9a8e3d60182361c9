"""The transformers path with a tiny randomly initialised Qwen2 model saved locally.

Random weights cannot answer well: the test checks the plumbing (chat template,
left-padded batched generation, token accounting) and that invalid output is
rejected with a clear error, or replaced by the offline decision when configured.
"""

import numpy as np
import pytest

from trend.spvp.hf_backend import TransformersMapper, TransformersSettings
from trend.spvp.prompting import InvalidLLMOutput, LLMRequestFailed, build_messages
from trend.spvp.router import Router
from trend.spvp.viewpoints import parse_category

CATEGORY = parse_category(
    {
        "category": "test",
        "viewpoints": [
            {"ordinal": 1, "name": "Battery", "description": "battery life"},
            {"ordinal": 2, "name": "Price", "description": "value for money"},
        ],
    }
)
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> {% endfor %}"
    "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "[UNK]"]
    corpus = " ".join(m["content"] for m in build_messages(CATEGORY, ["The battery is great.", "Too costly."]))
    extra = ' { } [ ] : , " results id viewpoints system user assistant 1 2 3'
    words = {w for w, _ in pre_tokenizers.Whitespace().pre_tokenize_str(corpus + extra)}
    vocab = {t: i for i, t in enumerate(specials + sorted(words))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token="[UNK]"
    )
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        eos_token_id=vocab["<|im_end|>"],
        pad_token_id=vocab["<|endoftext|>"],
    )
    folder = tmp_path_factory.mktemp("tiny-qwen2")
    Qwen2ForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_batched_generation_plumbing_and_token_accounting(tiny_qwen):
    mapper = TransformersMapper(CATEGORY, TransformersSettings(str(tiny_qwen), max_new_tokens=12))
    conversations = [
        build_messages(CATEGORY, t)
        for t in (["The battery is great."], ["Too costly.", "The battery is great."], ["Too costly."])
    ]
    outputs = mapper.generate(conversations)
    assert len(outputs) == 3 and all(isinstance(o, str) for o in outputs)
    assert mapper.usage.requests == 3
    assert mapper.usage.prompt_tokens > 3 * 20  # the prompts were tokenised, not truncated
    assert 0 < mapper.usage.completion_tokens <= 3 * 12
    assert mapper.tokenizer.padding_side == "left"


def test_random_model_output_is_rejected_as_invalid(tiny_qwen):
    mapper = TransformersMapper(
        CATEGORY, TransformersSettings(str(tiny_qwen), sentences_per_prompt=2, prompts_per_batch=2, max_new_tokens=8)
    )
    with pytest.raises(InvalidLLMOutput, match="invalid LLM output"):
        mapper.map(["The battery is great.", "Too costly.", "The battery is great."])


def test_router_can_keep_offline_decisions_when_the_llm_output_is_invalid(tiny_qwen):
    mapper = TransformersMapper(CATEGORY, TransformersSettings(str(tiny_qwen), max_new_tokens=8))
    offline_labels = np.array([[True, False], [False, True], [False, False]])
    uncertain = np.array([True, False, True])
    router = Router(CATEGORY.ordinals, mapper, on_invalid_output="offline")
    labels, backends = router.resolve(["a battery", "a price", "nothing"], offline_labels, uncertain)
    assert (labels == offline_labels).all() and backends == ["offline"] * 3
    assert (router.stats.sent_to_llm, router.stats.llm_fallbacks) == (2, 2)

    strict = Router(CATEGORY.ordinals, mapper, on_invalid_output="fail")
    with pytest.raises(InvalidLLMOutput):
        strict.resolve(["a battery", "a price", "nothing"], offline_labels, uncertain)


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(LLMRequestFailed, match="does not exist"):
        TransformersMapper(CATEGORY, TransformersSettings(str(tmp_path / "nope")))

"""Tokenizers: the byte tokenizer round-trips any text; the Hugging Face adapter reads a BPE
tokenizer trained here on the bundled data (nothing downloaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crucible.errors import InvalidArgumentError, NotFoundError
from crucible.train.data import bundled_path
from crucible.train.renderers import Message, get_renderer, renderer_special_tokens
from crucible.train.tokenizers import (
    ByteTokenizer,
    HFTokenizer,
    Tokenizer,
    get_tokenizer,
    single_token,
)

SPECIALS = ["<|im_start|>", "<|im_end|>", "<|im"]


@given(st.text())
def test_byte_round_trip(text: str) -> None:
    tok = ByteTokenizer(SPECIALS)
    assert tok.decode(tok.encode(text)) == text


def test_byte_specials_and_bos() -> None:
    tok = ByteTokenizer(SPECIALS, bos="<s>", eos="</s>")
    assert isinstance(tok, Tokenizer)
    assert tok.vocab_size == 256 + 5
    assert tok.encode("<|im_start|>a<|im") == [256, 97, 258]
    assert tok.encode("x", add_special_tokens=True) == [259, 120]
    assert (tok.bos_token_id, tok.eos_token_id) == (259, 260)
    assert single_token(tok, "<|im_end|>") == 257
    with pytest.raises(InvalidArgumentError, match="special token"):
        single_token(tok, "ab")
    assert tok.decode([0xE2, 0x82]) == "\ufffd"  # a cut-off character decodes, not raises
    with pytest.raises(InvalidArgumentError):
        tok.decode([9999])


@pytest.fixture(scope="module")
def bpe_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizers = pytest.importorskip("tokenizers")
    texts = []
    for line in bundled_path().read_text(encoding="utf-8").splitlines():
        for m in json.loads(line)["messages"]:
            texts.append(m["content"])
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tokenizers.decoders.ByteLevel()
    specials = list(renderer_special_tokens("qwen3"))
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["[UNK]", *specials],
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer)
    directory = tmp_path_factory.mktemp("bpe")
    tok.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(
        json.dumps({"eos_token": "<|im_end|>", "bos_token": None})
    )
    return directory


def test_hf_adapter(bpe_path: Path) -> None:
    tok = get_tokenizer(str(bpe_path))
    assert isinstance(tok, HFTokenizer)
    assert isinstance(tok, Tokenizer)
    assert tok.vocab_size <= 400
    assert tok.eos_token_id == tok.special_tokens["<|im_end|>"]
    assert tok.bos_token_id is None
    text = "What is the capital of France?"
    ids = tok.encode(text)
    assert len(ids) < len(text) / 2  # merges learned from the bundled text
    assert tok.decode(ids) == text
    assert single_token(tok, "<|im_start|>") == tok.special_tokens["<|im_start|>"]
    r = get_renderer("qwen3_instruct", tok)
    prompt = r.build_generation_prompt([Message(role="user", content=text)])
    assert r.render_text(prompt) == f"<|im_start|>user\n{text}<|im_end|>\n<|im_start|>assistant\n"
    msg, ok = r.parse_response(tok.encode("Paris.<|im_end|>"))
    assert ok
    assert msg.content == "Paris."
    assert (
        HFTokenizer.from_path(bpe_path / "tokenizer.json", bos="<think>").bos_token_id is not None
    )


def test_hf_adapter_errors(tmp_path: Path, bpe_path: Path) -> None:
    with pytest.raises(NotFoundError):
        HFTokenizer.from_path(tmp_path)
    with pytest.raises(NotFoundError, match="not in the vocabulary"):
        HFTokenizer.from_path(bpe_path, bos="<never>")

"""Every scorer against known values: hand-checked cases, and BLEU/ROUGE against the
libraries' own numbers on fixed strings."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from rouge_score import rouge_scorer  # type: ignore[import-untyped]
from sacrebleu import sentence_bleu

from crucible.errors import ConfigurationError, InvalidArgumentError
from crucible.train.evaluation.scoring import (
    SCORER_NAMES,
    BleuScorer,
    Candidate,
    CaseInsensitiveMatch,
    Contains,
    ExactMatch,
    NormalizedMatch,
    ReferenceNLL,
    ReferencePerplexity,
    RougeScorer,
    SemanticSimilarity,
    TokenF1,
    build_scorer,
    build_scorers,
    extract_answer,
    final_number,
    normalize_text,
    perplexity_from_nll,
)
from crucible.train.ports import EmbeddingClient


class LetterCountEmbedder:
    """A deterministic embedding: how often each of the letters a-z occurs."""

    dimension = 26

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for row, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    out[row, ord(ch) - 97] += 1
        return out


def test_string_matchers() -> None:
    assert ExactMatch().score(" 42 \n", "42") == 1.0
    assert ExactMatch().score("42.", "42") == 0.0
    assert Contains().score("The answer is Paris.", "Paris") == 1.0
    assert Contains().score("the answer is paris", "Paris") == 0.0
    assert CaseInsensitiveMatch().score("PARIS ", "paris") == 1.0
    assert CaseInsensitiveMatch().score("Paris.", "paris") == 0.0


def test_answer_extraction_and_normalisation() -> None:
    assert extract_answer("work... \\boxed{\\frac{1}{2}} done") == "\\frac{1}{2}"
    assert extract_answer("so the answer is: 12 apples") == "12 apples"
    assert extract_answer("Answer: x. Final answer: y") == "y"
    assert extract_answer("  plain  ") == "plain"
    assert normalize_text("The  Eiffel, Tower!") == "eiffel tower"
    assert final_number("from 3 to -1,250.5 ok") == -1250.5
    assert final_number("none") is None


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("The answer is: 1,234.", "1234", 1.0),
        ("\\boxed{42}", "42", 1.0),
        ("I first got 41, then 42", "42", 1.0),
        ("42 then 41", "42", 0.0),
        ("42.0", "42", 1.0),
        ("The Eiffel Tower!", "eiffel tower", 1.0),
        ("Answer: a cat", "the cat", 1.0),
        ("a dog", "the cat", 0.0),
    ],
)
def test_normalized_match(prediction: str, reference: str, expected: float) -> None:
    assert NormalizedMatch().score(prediction, reference) == expected


def test_token_f1_is_squad_f1() -> None:
    f1 = TokenF1()
    # normalised tokens: [cat, sat, on, mat] vs [cat, sat]: P = 1/2, R = 1, F1 = 2/3
    assert f1.score("The cat sat on the mat", "a cat sat") == pytest.approx(2 / 3)
    assert f1.score("cat cat", "cat") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert f1.score("dog", "cat") == 0.0
    assert f1.score("", "") == 1.0
    assert f1.score("the", "cat") == 0.0  # only an article: empty after normalisation


def test_bleu_matches_sacrebleu_on_a_zero_to_one_scale() -> None:
    bleu = BleuScorer()
    pairs = [
        ("the cat is on the mat", "the cat sat on the mat"),
        ("a quick brown fox jumps", "the quick brown fox jumped over"),
        ("completely different words", "nothing shared here"),
    ]
    for pred, ref in pairs:
        assert bleu.score(pred, ref) == pytest.approx(sentence_bleu(pred, [ref]).score / 100)
    assert bleu.score("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    assert bleu.score("completely different words", "nothing shared here") == 0.0


def test_rouge_variants_hand_checked_and_against_rouge_score() -> None:
    pred, ref = "the cat sat", "the cat was here"
    # unigrams: 2 shared of 3 / 4 -> F = 4/7; bigrams: 1 of 2 / 3 -> F = 0.4; LCS "the cat".
    assert RougeScorer("rouge1").score(pred, ref) == pytest.approx(4 / 7)
    assert RougeScorer("rouge2").score(pred, ref) == pytest.approx(0.4)
    assert RougeScorer("rougeL").score(pred, ref) == pytest.approx(4 / 7)
    library = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    pred2, ref2 = "police killed the gunman", "the gunman was shot dead by police"
    expected = library.score(ref2, pred2)
    for variant in ("rouge1", "rouge2", "rougeL"):
        scorer = build_scorer(variant)
        assert scorer.name == variant
        assert scorer.score_batch([Candidate(prediction=pred2, reference=ref2)]) == [
            pytest.approx(expected[variant].fmeasure)
        ]
    with pytest.raises(InvalidArgumentError):
        RougeScorer("rouge3")  # type: ignore[arg-type]


def test_likelihood_scorers_from_reference_logprobs() -> None:
    candidate = Candidate(
        prediction="x", reference="y", reference_logprobs=(math.log(0.5), math.log(0.25))
    )
    # mean NLL = (ln 2 + ln 4) / 2 = 1.5 ln 2; perplexity = 2 ** 1.5
    assert ReferenceNLL().score_batch([candidate]) == [pytest.approx(1.5 * math.log(2))]
    assert ReferencePerplexity().score_batch([candidate]) == [pytest.approx(2**1.5)]
    assert ReferencePerplexity.needs_logprobs
    assert not ExactMatch.needs_logprobs
    assert math.isfinite(perplexity_from_nll(10_000.0))
    assert math.isnan(perplexity_from_nll(math.nan))
    with pytest.raises(InvalidArgumentError, match="logprobs"):
        ReferenceNLL().score_batch([Candidate(prediction="x", reference="y")])


def test_semantic_similarity_is_the_cosine_of_embeddings() -> None:
    embedder = LetterCountEmbedder()
    assert isinstance(embedder, EmbeddingClient)
    scorer = build_scorer("semantic_similarity", embedder=embedder)
    pairs = [("ab", "ba"), ("aa", "bb"), ("ab", "a"), ("", "abc")]
    scores = scorer.score_batch([Candidate(prediction=p, reference=r) for p, r in pairs])
    assert scores == [pytest.approx(1.0), 0.0, pytest.approx(1 / math.sqrt(2)), 0.0]
    assert SemanticSimilarity(embedder).score_batch([]) == []


def test_semantic_similarity_rejects_a_wrongly_shaped_embedding() -> None:
    class Broken(LetterCountEmbedder):
        dimension = 8

    with pytest.raises(InvalidArgumentError, match="shape"):
        SemanticSimilarity(Broken()).score_batch([Candidate(prediction="a", reference="b")])


def test_registry() -> None:
    names = [n for n in SCORER_NAMES if n != "semantic_similarity"]
    assert [s.name for s in build_scorers(names)] == names
    with pytest.raises(InvalidArgumentError, match="unknown scorer"):
        build_scorer("accuracy")
    with pytest.raises(ConfigurationError, match="embedding client"):
        build_scorer("semantic_similarity")
    with pytest.raises(InvalidArgumentError, match="twice"):
        build_scorers(["f1", "f1"])

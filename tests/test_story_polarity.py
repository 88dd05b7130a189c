"""Negation scope, questions and refusals (story/polarity.py): the words that flip a line's meaning."""

from __future__ import annotations

import pytest
from motiflens.story.polarity import is_question, is_refusal, negated, negations


def scope_of(text: str, term: str) -> bool:
    begin = text.index(term)
    return negated(negations(text), begin, begin + len(term))


@pytest.mark.parametrize(
    ("text", "term", "inside"),
    [
        ("我永远不会原谅你。", "原谅", True),
        ("我原谅你了。", "原谅", False),
        ("我绝不嫁给你！", "嫁给", True),
        ("没有人会来救你。", "救你", True),
        ("别哭了，我原谅你。", "原谅", False),  # the clause ends before the cue
        ("对不起，我原谅你。", "原谅", False),  # 对不起 holds 不 but negates nothing
        ("I will never forgive you.", "forgive", True),
        ("I won't cry, I forgive you.", "forgive", False),
        ("I don't love him anymore.", "love", True),
        ("Not only did he save me, he saved my son.", "save", False),
        ("You are no longer my brother.", "brother", True),
    ],
)
def test_a_cue_is_negated_only_inside_the_scope_of_a_negator(text: str, term: str, inside: bool) -> None:
    assert scope_of(text, term) is inside


def test_the_scope_ends_at_the_clause_and_after_a_few_words() -> None:
    text = "I did not think that after all these long years you would forgive me."
    assert not scope_of(text, "forgive")
    assert scope_of("我不想再见到你。", "见到")


@pytest.mark.parametrize("text", ["你真的以为我会原谅你？", "Will you marry me?", "你爱我吗"])
def test_questions(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize("text", ["休想！", "No way.", "Never.", "不，我不会。", "做梦！", "Not a chance."])
def test_refusals(text: str) -> None:
    assert is_refusal(text)


@pytest.mark.parametrize("text", ["好，我原谅你。", "Yes.", "I forgive you.", "不要紧，回来就好。", ""])
def test_acceptances_and_other_replies_are_not_refusals(text: str) -> None:
    assert not is_refusal(text)

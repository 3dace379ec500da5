"""Advantages, data processing, KL penalty and tasks on hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest

from crucible.errors import InvalidArgumentError, NotFoundError
from crucible.train.renderers import get_renderer
from crucible.train.rl import (
    StepResult,
    Trajectory,
    TrajectoryGroup,
    Transition,
    apply_kl_penalty,
    group_advantages,
    is_degenerate,
    policy_data,
    trajectory_data,
)
from crucible.train.tasks import AdditionTask, NextLetterTask, ReverseTask, get_task
from crucible.train.tokenizers import get_tokenizer
from crucible.train.types import ModelInput, TokensWithLogprobs


def _traj(prompt: list[int], action: list[int], reward: float) -> Trajectory:
    transition = Transition(
        observation=ModelInput.from_ints(prompt),
        action=TokensWithLogprobs(tokens=action, maybe_logprobs=[-0.5] * len(action)),
        reward=reward,
        episode_done=True,
    )
    return Trajectory(transitions=[transition], final_observation=ModelInput())


def test_group_centring_and_std_normalisation() -> None:
    adv = group_advantages([1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(adv, [0.5, -0.5, -0.5, 0.5])
    assert adv.sum() == pytest.approx(0.0)
    norm = group_advantages([1.0, 0.0, 0.0, 1.0], normalize_std=True)
    np.testing.assert_allclose(norm, [1.0, -1.0, -1.0, 1.0], rtol=1e-5)
    np.testing.assert_allclose(group_advantages([3.0, 1.0]), [1.0, -1.0])


def test_degenerate_groups_have_zero_advantage_and_can_be_dropped() -> None:
    assert is_degenerate([0.2, 0.2, 0.2])
    assert not is_degenerate([0.2, 0.2, 0.3])
    np.testing.assert_array_equal(group_advantages([1.0, 1.0, 1.0]), [0.0, 0.0, 0.0])
    with pytest.raises(InvalidArgumentError):
        is_degenerate([])
    flat = TrajectoryGroup([_traj([1, 2], [3], 1.0), _traj([1, 2], [4], 1.0)], [0.0, 0.0], [{}, {}])
    live = TrajectoryGroup([_traj([1, 2], [3], 1.0), _traj([1, 2], [4], 0.0)], [0.0, 0.0], [{}, {}])
    data, metrics = policy_data([flat, live], drop_degenerate=True)
    assert len(data) == 2
    assert metrics["groups_trained"] == 1.0
    assert metrics["frac_degenerate_groups"] == 0.5
    assert metrics["env/reward_mean"] == pytest.approx(0.75)
    kept, _ = policy_data([flat, live], drop_degenerate=False)
    assert len(kept) == 4
    assert all(not d.loss_fn_inputs["advantages"].any() for d in kept[:2])


def test_trajectory_data_puts_loss_only_on_action_tokens() -> None:
    (datum,) = trajectory_data(_traj([10, 11, 12], [20, 21], 1.0), 0.75)
    assert datum.model_input.to_ints() == [10, 11, 12, 20]
    lfi = datum.loss_fn_inputs
    np.testing.assert_array_equal(lfi["target_tokens"], [11, 12, 20, 21])
    np.testing.assert_array_equal(lfi["mask"], [0, 0, 1, 1])
    np.testing.assert_array_equal(lfi["advantages"], [0, 0, 0.75, 0.75])
    np.testing.assert_array_equal(lfi["logprobs"], [0, 0, -0.5, -0.5])


def test_multi_turn_episodes_merge_when_observations_extend() -> None:
    def step(ob: list[int], ac: list[int]) -> Transition:
        return Transition(
            observation=ModelInput.from_ints(ob),
            action=TokensWithLogprobs(tokens=ac, maybe_logprobs=[-1.0] * len(ac)),
            reward=0.0,
            episode_done=False,
        )

    merged = Trajectory([step([1, 2], [3]), step([1, 2, 3, 4], [5])], ModelInput())
    (datum,) = trajectory_data(merged, 1.0)
    np.testing.assert_array_equal(datum.loss_fn_inputs["mask"], [0, 1, 0, 1])
    split = Trajectory([step([1, 2], [3]), step([9, 8], [7])], ModelInput())
    assert len(trajectory_data(split, 1.0)) == 2


class _Reference:
    """A reference model that gives every token logprob -1."""

    def compute_logprobs(self, prompt: ModelInput) -> list[float | None]:
        return [None] + [-1.0] * (prompt.length - 1)

    def sample(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("not used")


def test_kl_penalty_is_centred_and_scaled_by_coefficient() -> None:
    a = trajectory_data(_traj([1, 2], [3], 1.0), 0.5)[0]  # sampler lp -0.5 vs ref -1
    b = trajectory_data(_traj([1, 2], [4, 5], 1.0), -0.5)[0]
    untouched, metrics = apply_kl_penalty([a, b], _Reference(), 0.0)  # type: ignore[arg-type]
    assert metrics["kl/policy_reference"] == pytest.approx(0.5)
    assert untouched[0] is a
    penalised, _ = apply_kl_penalty([a, b], _Reference(), 2.0)  # type: ignore[arg-type]
    # every action token has the same log-ratio, so the centred penalty is zero
    np.testing.assert_allclose(penalised[0].loss_fn_inputs["advantages"], [0.0, 0.5])
    c = trajectory_data(_traj([1, 2], [6], 1.0), 0.0)[0]
    c.loss_fn_inputs["logprobs"][-1] = -3.0  # drifted less than average: pushed up
    out, m = apply_kl_penalty([a, c], _Reference(), 1.0)  # type: ignore[arg-type]
    assert m["kl/policy_reference"] == pytest.approx((0.5 - 2.0) / 2)
    assert out[0].loss_fn_inputs["advantages"][-1] == pytest.approx(0.5 - 1.25)
    assert out[1].loss_fn_inputs["advantages"][-1] == pytest.approx(0.0 + 1.25)


def test_tasks_grade_exactly_and_with_partial_credit() -> None:
    add = AdditionTask()
    assert add.grade(" 7 ", "7").reward == 1.0
    assert add.grade("6", "7").reward == 0.0
    shaped = AdditionTask(partial_credit=True)
    assert 0.1 < shaped.grade("6", "7").reward < 0.5
    assert shaped.grade("x", "7").reward == 0.0
    letter = NextLetterTask(partial_credit=True)
    assert letter.grade("c", "c").correct
    assert letter.grade("b", "c").reward == pytest.approx(0.1)
    rev = ReverseTask(partial_credit=True)
    assert rev.grade("cba", "cba").reward == 1.0
    assert rev.grade("cbb", "cba").reward == pytest.approx(0.1 + 0.4 * 2 / 3)
    problems = add.problems(5, seed=3)
    assert problems == add.problems(5, seed=3)
    assert problems[2:] == add.problems(3, seed=3, offset=2)
    for p in problems:
        a, b = p.question.split("+")
        assert int(a) + int(b) == int(p.answer)
    examples = get_task("next_letter").examples(4, seed=1)
    assert all(ord(e.completion) == ord(e.prompt[-1]) + 1 for e in examples)
    with pytest.raises(NotFoundError):
        get_task("chess")
    with pytest.raises(InvalidArgumentError):
        get_task("addition", max_operand=0)
    with pytest.raises(InvalidArgumentError):
        get_task("addition", letters=3)


def test_problem_env_renders_prompt_and_grades_parsed_answer() -> None:
    from crucible.train.tasks import ProblemDataset

    renderer = get_renderer("role_colon", get_tokenizer("byte"))
    data = ProblemDataset(
        NextLetterTask(), renderer, num_batches=2, groups_per_batch=3, group_size=4, seed=0
    )
    builders = data.get_batch(1)
    assert len(data) == 2
    assert len(builders) == 3
    env = builders[0].make_envs()[0]
    prompt, stop = env.initial_observation()
    text = renderer.tokenizer.decode(prompt.to_ints())
    assert text.startswith("User: after ")
    assert text.endswith("Assistant:")
    answer = builders[0].problem.answer
    result = env.step(renderer.tokenizer.encode(" " + answer))
    assert isinstance(result, StepResult)
    assert result.reward == 1.0
    assert result.episode_done
    assert stop
    with pytest.raises(InvalidArgumentError):
        data.get_batch(2)

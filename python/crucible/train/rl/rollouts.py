"""Rollouts: run a group's envs to the end with a sampling client as the policy.

All envs of a group advance turn by turn together. Envs that show the same observation
(every env of a single-turn problem group does, at first) are sampled with one
``sample(prompt, num_samples=k)`` call, which the NumPy backend runs in lockstep: one
forward pass per token for the whole group instead of one per env. Each call gets its own
seed, derived from the rollout seed, the turn and the call's position, so a group's
samples depend on nothing but that seed (not on how many groups ran before it), which is
what makes a step reproducible and a resumed run identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crucible import prng
from crucible.errors import InvalidArgumentError
from crucible.train.ports.sampling import SamplingClient
from crucible.train.rl.types import (
    Env,
    EnvGroupBuilder,
    Metrics,
    StopCondition,
    SupportsGroupRewards,
    Trajectory,
    TrajectoryGroup,
    Transition,
)
from crucible.train.types import ModelInput, SamplingParams

__all__ = ["RolloutPolicy", "rollout_group", "rollout_seed"]

_SEED_BOUND = 2**62


def rollout_seed(*keys: int) -> int:
    """A sampling seed derived from ``keys`` (run seed, step, group, turn, ...)."""
    return int(prng.default_rng([k & 0xFFFFFFFFFFFFFFFF for k in keys]).integers(_SEED_BOUND))


@dataclass(frozen=True)
class RolloutPolicy:
    """How actions are sampled: the client and the per-turn limits."""

    client: SamplingClient
    max_tokens: int
    temperature: float = 1.0
    max_turns: int = 16
    """A safety stop for envs that never finish."""

    def params(self, stop: StopCondition, seed: int) -> SamplingParams:
        return SamplingParams(
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            stop=list(stop) or None,
            seed=seed,
        )


def _prompt_key(observation: ModelInput, stop: StopCondition) -> tuple[object, ...]:
    return (observation.chunks, tuple(stop))


def _run_turns(envs: Sequence[Env], policy: RolloutPolicy, seed: int) -> list[Trajectory]:
    pending = [env.initial_observation() for env in envs]
    observations: list[ModelInput] = [ob for ob, _ in pending]
    stops: list[StopCondition] = [stop for _, stop in pending]
    transitions: list[list[Transition]] = [[] for _ in envs]
    live = list(range(len(envs)))
    for turn in range(policy.max_turns):
        if not live:
            break
        by_prompt: dict[tuple[object, ...], list[int]] = {}
        for i in live:
            by_prompt.setdefault(_prompt_key(observations[i], stops[i]), []).append(i)
        still_live: list[int] = []
        for call, members in enumerate(by_prompt.values()):
            first = members[0]
            params = policy.params(stops[first], rollout_seed(seed, turn, call))
            response = policy.client.sample(observations[first], len(members), params)
            for i, sequence in zip(members, response.sequences, strict=True):
                action = sequence.to_tokens_with_logprobs()
                result = envs[i].step(list(action.tokens))
                transitions[i].append(
                    Transition(
                        observation=observations[i],
                        action=action,
                        reward=float(result.reward),
                        episode_done=result.episode_done,
                        metrics=dict(result.metrics),
                    )
                )
                observations[i] = result.next_observation
                stops[i] = result.next_stop_condition
                if not result.episode_done:
                    still_live.append(i)
        live = sorted(still_live)
    if live:
        raise InvalidArgumentError(
            f"{len(live)} episode(s) did not finish within max_turns={policy.max_turns}"
        )
    return [
        Trajectory(transitions=t, final_observation=ob)
        for t, ob in zip(transitions, observations, strict=True)
    ]


def rollout_group(builder: EnvGroupBuilder, policy: RolloutPolicy, seed: int) -> TrajectoryGroup:
    """Every env of ``builder`` played to its end, plus the group-level rewards if the
    builder gives them."""
    envs = list(builder.make_envs())
    if not envs:
        raise InvalidArgumentError("an env group builder made no envs")
    trajectories = _run_turns(envs, policy, seed)
    if isinstance(builder, SupportsGroupRewards):
        pairs = builder.compute_group_rewards(trajectories)
        if len(pairs) != len(trajectories):
            raise InvalidArgumentError(
                f"compute_group_rewards gave {len(pairs)} rewards for "
                f"{len(trajectories)} trajectories"
            )
        final = [float(r) for r, _ in pairs]
        metrics: list[Metrics] = [dict(m) for _, m in pairs]
    else:
        final = [0.0] * len(trajectories)
        metrics = [{} for _ in trajectories]
    return TrajectoryGroup(trajectories=trajectories, final_rewards=final, metrics=metrics)

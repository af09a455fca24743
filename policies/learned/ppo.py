"""CleanRL-style single-file PPO on the when-to-speak env (torch; import this module lazily).

``train_ppo(out_dir, config)`` trains an actor-critic MLP on
:class:`~proassist.policies.learned.rl_env.ProAssistSpeakEnv` with PPO: a Gymnasium
``SyncVectorEnv`` (same-step autoreset) over the three domain envs round robin, GAE,
the clipped surrogate objective, a value loss, an entropy bonus, gradient clipping and
a linearly annealed learning rate (Schulman et al. 2017; CleanRL's ``ppo.py``). Training
episodes use seeds at or above :data:`~proassist.policies.learned.rl_env.TRAIN_SEED_BASE`
(evaluation uses seeds below it).

Outputs in ``out_dir``:

* ``progress.csv``: one row per update (:data:`CSV_FIELDS`): the global step, the mean
  shaped and env return, success rate and interruptions per minute of the training
  episodes that ended during the update, and the losses;
* ``checkpoints/update_NNNNNN.pt`` every ``checkpoint_every`` updates (weights,
  optimizer, counters, RNG state; the last ``keep_checkpoints`` are kept);
  ``resume=True`` continues from the newest one (new episodes, the step count and the
  CSV carried on);
* ``policy.pt``: the inference checkpoint (weights + ``meta``) that the ``ppo`` policy
  loads (:func:`load_agent`).

The initial policy is silent with probability ``silent_prior`` at each decision point
(the actor's output bias), not uniform: a uniform start would speak 90 % of the time,
and the person would stop listening before anything could be learned.
"""

from __future__ import annotations

import csv
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from proassist.policies.learned import require_torch
from proassist.policies.learned.rl_env import (
    DEFAULT_TIME_COST,
    DOMAIN_ENVS,
    OBS_DIM,
    OBS_NAMES,
    SPEAK_ACTIONS,
    TRAIN_SEED_BASE,
    ProAssistSpeakEnv,
)

__all__ = [
    "CSV_FIELDS",
    "Agent",
    "PPOConfig",
    "check_resume",
    "latest_checkpoint",
    "load_agent",
    "make_vector_env",
    "train_ppo",
]

torch = require_torch("PPO (proassist train --algo ppo)")
nn = torch.nn

#: Columns of ``progress.csv``.
CSV_FIELDS: tuple[str, ...] = (
    "update",
    "global_step",
    "wall_s",
    "episodes",
    "episode_return",
    "env_return",
    "success_rate",
    "interruptions_per_min",
    "policy_loss",
    "value_loss",
    "entropy",
    "approx_kl",
    "clip_frac",
    "lr",
    "sps",
)
_CKPT_RE = re.compile(r"^update_(\d{6,})\.pt$")


@dataclass
class PPOConfig:
    """PPO settings (CleanRL's defaults where they fit; the reasons are noted).

    Attributes:
        total_steps: Env steps (decision points) over all envs.
        n_envs: Parallel envs, assigned to the domain envs round robin.
        n_steps: Steps per env per rollout (an episode is ~230 decision points).
        epochs: Optimisation passes over each rollout.
        minibatches: Minibatches per pass.
        lr: Adam learning rate (annealed linearly to 0 when ``anneal_lr``).
        anneal_lr: Anneal the learning rate.
        gamma: Discount (0.99: a horizon of ~100 decision points, 50 s).
        gae_lambda: GAE lambda.
        clip: PPO clipping range.
        ent_coef: Entropy bonus weight (0.001: in a probe with CleanRL's 0.01, and gamma
            0.995, the agent talked more and more: 5 to 17 interruptions a minute in the
            first 100k steps).
        vf_coef: Value loss weight.
        max_grad_norm: Gradient norm clip.
        reward_scale: Rewards are multiplied by this for the update (success: 10 → 1).
        time_cost: Reward per simulated second (the env's shaping term).
        hidden: Width of the two hidden layers of the actor and of the critic.
        silent_prior: Initial probability of the silent action.
        checkpoint_every: Updates between checkpoints.
        keep_checkpoints: Checkpoints kept (the oldest are deleted).
        seed: Seeds the weights, the sampling and the first episodes.
    """

    total_steps: int = 2_000_000
    n_envs: int = 12
    n_steps: int = 256
    epochs: int = 4
    minibatches: int = 4
    lr: float = 2.5e-4
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip: float = 0.2
    ent_coef: float = 0.001
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    reward_scale: float = 0.1
    time_cost: float = DEFAULT_TIME_COST
    hidden: int = 64
    silent_prior: float = 0.95
    checkpoint_every: int = 10
    keep_checkpoints: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        ints = ("total_steps", "n_envs", "n_steps", "epochs", "minibatches", "hidden")
        bad = [f"{k} must be >= 1" for k in ints if int(getattr(self, k)) < 1]
        if int(self.checkpoint_every) < 1 or int(self.keep_checkpoints) < 1:
            bad.append("checkpoint_every and keep_checkpoints must be >= 1")
        if not 0.0 < self.silent_prior < 1.0:
            bad.append(f"silent_prior must be in (0, 1), got {self.silent_prior}")
        if not (self.lr > 0 and 0 < self.gamma <= 1 and 0 <= self.gae_lambda <= 1):
            bad.append("lr must be > 0, gamma in (0, 1], gae_lambda in [0, 1]")
        if self.time_cost < 0 or self.reward_scale <= 0:
            bad.append("time_cost must be >= 0 and reward_scale > 0")
        if bad:
            raise ValueError("; ".join(bad))

    @property
    def batch_size(self) -> int:
        """Steps per update."""
        return self.n_envs * self.n_steps

    @property
    def n_updates(self) -> int:
        """Updates in ``total_steps`` (at least one)."""
        return max(1, self.total_steps // self.batch_size)

    def learning_shape(self) -> dict[str, Any]:
        """The settings a resumed run must share (all but the run length)."""
        return {k: v for k, v in asdict(self).items() if k != "total_steps"}


def _layer(n_in: int, n_out: int, std: float = float(np.sqrt(2))) -> Any:
    layer = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, 0.0)
    return layer


class Agent(nn.Module):
    """Actor and critic MLPs (two tanh hidden layers each, orthogonal init, CleanRL).

    Args:
        obs_dim: Observation size.
        n_actions: Number of discrete actions (action 0 is silence).
        hidden: Hidden layer width.
        silent_prior: Initial probability of action 0 (set through the output bias).
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden: int, silent_prior: float) -> None:
        super().__init__()
        self.critic = nn.Sequential(
            _layer(obs_dim, hidden), nn.Tanh(), _layer(hidden, hidden), nn.Tanh(),
            _layer(hidden, 1, 1.0),
        )  # fmt: skip
        self.actor = nn.Sequential(
            _layer(obs_dim, hidden), nn.Tanh(), _layer(hidden, hidden), nn.Tanh(),
            _layer(hidden, n_actions, 0.01),
        )  # fmt: skip
        bias = float(np.log(silent_prior * (n_actions - 1) / (1.0 - silent_prior)))
        with torch.no_grad():
            self.actor[-1].bias[0] = bias

    def get_value(self, x: Any) -> Any:
        """State values ``(N,)``."""
        return self.critic(x).squeeze(-1)

    def get_action_and_value(self, x: Any, action: Any = None) -> tuple[Any, Any, Any, Any]:
        """Sampled (or given) actions, their log-probabilities, the entropy, the values."""
        dist = torch.distributions.Categorical(logits=self.actor(x))
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), self.get_value(x)


def make_vector_env(config: PPOConfig, **env_kwargs: Any) -> Any:
    """A same-step-autoreset ``SyncVectorEnv`` of ``n_envs`` speak envs (domains round robin)."""
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode

    def factory(i: int) -> Any:
        env_id = DOMAIN_ENVS[i % len(DOMAIN_ENVS)]
        return lambda: ProAssistSpeakEnv(env_id, time_cost=config.time_cost, **env_kwargs)

    fns = [factory(i) for i in range(config.n_envs)]
    return gym.vector.SyncVectorEnv(fns, autoreset_mode=AutoresetMode.SAME_STEP)


def _first_seeds(config: PPOConfig, update: int) -> list[int]:
    """Seeds (>= TRAIN_SEED_BASE) of the first episodes of a run starting at ``update``."""
    raw = np.random.SeedSequence([config.seed, update]).generate_state(config.n_envs)
    span = 2**31 - 1 - TRAIN_SEED_BASE
    return [TRAIN_SEED_BASE + int(x) % span for x in raw]


# ------------------------------------------------------------------ checkpoints
def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The newest ``checkpoints/update_NNNNNN.pt`` in ``out_dir``, or None."""
    found = sorted(
        (int(m.group(1)), p)
        for p in (Path(out_dir) / "checkpoints").glob("update_*.pt")
        if (m := _CKPT_RE.match(p.name))
    )
    return found[-1][1] if found else None


def _meta(config: PPOConfig, update: int, global_step: int) -> dict[str, Any]:
    return {
        "algo": "ppo",
        "obs_names": list(OBS_NAMES),
        "actions": [a.name for a in SPEAK_ACTIONS],
        "hidden": config.hidden,
        "config": asdict(config),
        "update": update,
        "global_step": global_step,
    }


def _save(out: Path, agent: Any, optim: Any, config: PPOConfig, counters: dict) -> None:
    """Write the update's checkpoint and ``policy.pt``; drop the oldest checkpoints."""
    meta = _meta(config, counters["update"], counters["global_step"])
    ckpt_dir = out / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    state = {"model": agent.state_dict(), "optimizer": optim.state_dict(), "meta": meta}
    state |= {"counters": dict(counters), "torch_rng": torch.get_rng_state()}
    tmp = ckpt_dir / f"update_{counters['update']:06d}.pt.tmp"
    torch.save(state, tmp)
    tmp.replace(tmp.with_suffix(""))
    torch.save({"state_dict": agent.state_dict(), "meta": meta}, out / "policy.pt")
    found = sorted(p for p in ckpt_dir.glob("update_*.pt") if _CKPT_RE.match(p.name))
    for old in found[: -config.keep_checkpoints]:
        old.unlink()


def check_resume(out_dir: str | Path, config: PPOConfig) -> Path | None:
    """The checkpoint a resumed run in ``out_dir`` starts from (None: from scratch).

    Raises:
        ValueError: When its learning settings differ from ``config``'s.
    """
    path = latest_checkpoint(out_dir)
    if path is None:
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    saved = PPOConfig(**state["meta"]["config"])
    if saved.learning_shape() != config.learning_shape():
        diff = {k: v for k, v in saved.learning_shape().items() if getattr(config, k) != v}
        raise ValueError(
            f"{path}: the checkpoint was trained with {diff}; resume with the same "
            "settings or use another folder"
        )
    return path


def _resume(out: Path, agent: Any, optim: Any, config: PPOConfig) -> dict[str, Any]:
    """Load the newest checkpoint into ``agent`` and ``optim``; its counters."""
    path = check_resume(out, config)
    if path is None:
        return {"update": 0, "global_step": 0, "wall_s": 0.0}
    state = torch.load(path, map_location="cpu", weights_only=True)
    agent.load_state_dict(state["model"])
    optim.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    return dict(state["counters"])


def load_agent(path: str | Path) -> tuple[Any, dict[str, Any]]:
    """Load ``policy.pt`` (or a training checkpoint) → (eval-mode :class:`Agent`, meta).

    Raises:
        FileNotFoundError: When ``path`` is not a file.
        ValueError: When it was trained on other observations or actions.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"PPO checkpoint {str(path)!r}: no such file")
    state = torch.load(path, map_location="cpu", weights_only=True)
    meta = state["meta"]
    actions = [a.name for a in SPEAK_ACTIONS]
    if meta.get("obs_names") != list(OBS_NAMES) or meta.get("actions") != actions:
        raise ValueError(f"{path}: trained on other observations or actions than this version")
    agent = Agent(OBS_DIM, len(actions), int(meta["hidden"]), 0.5)
    agent.load_state_dict(state.get("state_dict") or state["model"])
    return agent.eval(), meta


# ------------------------------------------------------------------ logging
def _open_csv(out: Path, last_update: int) -> Any:
    """Open ``progress.csv`` for appending, keeping the rows up to ``last_update``."""
    path = out / "progress.csv"
    rows = []
    if last_update > 0 and path.is_file():
        with path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["update"]) <= last_update]
    f = path.open("w", newline="")
    writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    f.flush()
    return f, writer


def _finished(infos: dict[str, Any]) -> list[dict[str, float]]:
    """Outcomes of the episodes that ended on this vector step."""
    final, mask = infos.get("final_info"), infos.get("_final_info")
    if final is None or mask is None:
        return []
    keys = ("episode_return", "episode_success", "episode_interrupts", "episode_minutes")
    return [{k: float(final[k][i]) for k in keys} for i in np.flatnonzero(mask)]


def _episode_row(episodes: list[dict[str, float]], time_cost: float) -> dict[str, Any]:
    """The episode columns of one CSV row (blank when no episode ended)."""
    if not episodes:
        return {"episodes": 0}
    ret = float(np.mean([e["episode_return"] for e in episodes]))
    minutes = sum(e["episode_minutes"] for e in episodes)
    env_ret = ret + time_cost * 60.0 * minutes / len(episodes)
    return {
        "episodes": len(episodes),
        "episode_return": round(ret, 4),
        "env_return": round(env_ret, 4),
        "success_rate": round(float(np.mean([e["episode_success"] for e in episodes])), 4),
        "interruptions_per_min": round(
            sum(e["episode_interrupts"] for e in episodes) / max(minutes, 1e-9), 4
        ),
    }


# ------------------------------------------------------------------ the algorithm
def _rollout(agent: Any, envs: Any, state: dict[str, Any], config: PPOConfig) -> dict[str, Any]:
    """Collect ``n_steps`` vector steps; ``state`` holds the next observation and done."""
    shape = (config.n_steps, config.n_envs)
    buf = {k: torch.zeros(shape) for k in ("logprobs", "rewards", "dones", "values")}
    buf["obs"] = torch.zeros((*shape, OBS_DIM))
    buf["actions"] = torch.zeros(shape, dtype=torch.long)
    episodes: list[dict[str, float]] = []
    for step in range(config.n_steps):
        buf["obs"][step], buf["dones"][step] = state["obs"], state["done"]
        with torch.no_grad():
            action, logprob, _, value = agent.get_action_and_value(state["obs"])
        obs, reward, term, trunc, infos = envs.step(action.numpy())
        buf["actions"][step], buf["logprobs"][step], buf["values"][step] = action, logprob, value
        buf["rewards"][step] = torch.as_tensor(reward, dtype=torch.float32) * config.reward_scale
        state["obs"] = torch.as_tensor(obs, dtype=torch.float32)
        state["done"] = torch.as_tensor(np.logical_or(term, trunc), dtype=torch.float32)
        episodes += _finished(infos)
    buf["episodes"] = episodes
    return buf


def _advantages(agent: Any, buf: dict[str, Any], state: dict, config: PPOConfig) -> tuple:
    """GAE advantages and returns (an ended episode is not bootstrapped)."""
    with torch.no_grad():
        next_value = agent.get_value(state["obs"])
    adv = torch.zeros_like(buf["rewards"])
    last = torch.zeros(config.n_envs)
    for t in reversed(range(config.n_steps)):
        nonterminal = 1.0 - (state["done"] if t == config.n_steps - 1 else buf["dones"][t + 1])
        value_next = next_value if t == config.n_steps - 1 else buf["values"][t + 1]
        delta = buf["rewards"][t] + config.gamma * value_next * nonterminal - buf["values"][t]
        last = delta + config.gamma * config.gae_lambda * nonterminal * last
        adv[t] = last
    return adv, adv + buf["values"]


def _minibatch_loss(agent: Any, b: dict[str, Any], idx: Any, config: PPOConfig) -> tuple:
    """The PPO loss of one minibatch and its statistics."""
    _, logprob, entropy, value = agent.get_action_and_value(b["obs"][idx], b["actions"][idx])
    logratio = logprob - b["logprobs"][idx]
    ratio = logratio.exp()
    adv = b["adv"][idx]
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - config.clip, 1 + config.clip)).mean()
    v_loss = 0.5 * ((value - b["returns"][idx]) ** 2).mean()
    loss = pg_loss - config.ent_coef * entropy.mean() + config.vf_coef * v_loss
    with torch.no_grad():
        stats = {
            "policy_loss": float(pg_loss),
            "value_loss": float(v_loss),
            "entropy": float(entropy.mean()),
            "approx_kl": float(((ratio - 1) - logratio).mean()),
            "clip_frac": float(((ratio - 1.0).abs() > config.clip).float().mean()),
        }
    return loss, stats


def _update(agent: Any, optim: Any, buf: dict, adv: Any, ret: Any, config: PPOConfig) -> dict:
    """``epochs`` passes of minibatch PPO updates; the last pass's mean statistics."""
    b = {k: buf[k].reshape(config.batch_size, *buf[k].shape[2:]) for k in
         ("obs", "actions", "logprobs")}  # fmt: skip
    b["adv"], b["returns"] = adv.reshape(-1), ret.reshape(-1)
    size = max(1, config.batch_size // config.minibatches)
    stats: list[dict[str, float]] = []
    for _ in range(config.epochs):
        stats = []
        perm = torch.randperm(config.batch_size)
        for start in range(0, config.batch_size, size):
            loss, s = _minibatch_loss(agent, b, perm[start : start + size], config)
            optim.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), config.max_grad_norm)
            optim.step()
            stats.append(s)
    return {k: round(float(np.mean([s[k] for s in stats])), 6) for k in stats[0]}


def _one_update(agent: Any, optim: Any, envs: Any, state: dict, config: PPOConfig, update: int):
    """Anneal, roll out, update; the CSV row's episode and loss columns."""
    lr = config.lr * (1.0 - (update - 1) / config.n_updates) if config.anneal_lr else config.lr
    optim.param_groups[0]["lr"] = lr
    buf = _rollout(agent, envs, state, config)
    adv, ret = _advantages(agent, buf, state, config)
    stats = _update(agent, optim, buf, adv, ret, config)
    return _episode_row(buf["episodes"], config.time_cost) | stats | {"lr": lr}


def train_ppo(
    out_dir: str | Path,
    config: PPOConfig | None = None,
    *,
    resume: bool = False,
    progress: bool = True,
    threads: int = 1,
    env_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train PPO on the speak env; write ``progress.csv``, checkpoints and ``policy.pt``.

    Args:
        out_dir: Output folder (created).
        config: PPO settings (default :class:`PPOConfig`).
        resume: Continue from the newest checkpoint in ``out_dir`` (from scratch when
            there is none); ``config.total_steps`` may be raised to train longer.
        progress: Show a tqdm progress bar.
        threads: torch intra-op threads (``0`` leaves torch's setting alone).
        env_kwargs: Passed to every env (e.g. ``max_duration`` for quick runs).

    Returns:
        ``{"policy_path", "csv_path", "update", "global_step", "wall_s"}`` (``wall_s``:
        seconds spent in rollouts and updates, over all runs of ``out_dir``).

    Raises:
        FileExistsError: When ``out_dir`` holds checkpoints and ``resume`` is False.
        ValueError: When a resumed checkpoint has other learning settings.
    """
    config = config or PPOConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not resume and latest_checkpoint(out) is not None:
        raise FileExistsError(f"{out} holds PPO checkpoints: resume, or use another folder")
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    agent = Agent(OBS_DIM, len(SPEAK_ACTIONS), config.hidden, config.silent_prior)
    optim = torch.optim.Adam(agent.parameters(), lr=config.lr, eps=1e-5)
    counters = _resume(out, agent, optim, config) if resume else None
    counters = counters or {"update": 0, "global_step": 0, "wall_s": 0.0}
    envs = make_vector_env(config, **(env_kwargs or {}))
    try:
        _loop(out, agent, optim, envs, config, counters, progress)
    finally:
        envs.close()
    if not (out / "policy.pt").is_file():
        _save(out, agent, optim, config, counters)
    return {
        "policy_path": str(out / "policy.pt"),
        "csv_path": str(out / "progress.csv"),
        **{k: counters[k] for k in ("update", "global_step", "wall_s")},
    }


def _loop(out: Path, agent: Any, optim: Any, envs: Any, config: PPOConfig, counters: dict,
          progress: bool) -> None:  # fmt: skip
    """Run the updates left; a CSV row each, a checkpoint every ``checkpoint_every``."""
    from tqdm.auto import tqdm

    obs, _ = envs.reset(seed=_first_seeds(config, counters["update"]))
    state = {"obs": torch.as_tensor(obs, dtype=torch.float32), "done": torch.zeros(config.n_envs)}
    f, writer = _open_csv(out, counters["update"])
    total = config.n_updates * config.batch_size
    bar = tqdm(total=total, initial=counters["global_step"], unit="step", disable=not progress)
    with f, bar:
        for update in range(counters["update"] + 1, config.n_updates + 1):
            t0 = time.perf_counter()
            row = _one_update(agent, optim, envs, state, config, update)
            dt = time.perf_counter() - t0
            counters["update"] = update
            counters["global_step"] += config.batch_size
            counters["wall_s"] = round(counters["wall_s"] + dt, 3)
            row |= {"update": update, "sps": round(config.batch_size / dt, 1)}
            writer.writerow(row | {k: counters[k] for k in ("global_step", "wall_s")})
            f.flush()
            bar.update(config.batch_size)
            bar.set_postfix(ret=row.get("episode_return", ""), succ=row.get("success_rate", ""))
            if update % config.checkpoint_every == 0 or update == config.n_updates:
                _save(out, agent, optim, config, counters)

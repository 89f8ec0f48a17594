"""Behaviour cloning of recurrent policies by truncated backpropagation through time.

Whole episodes are replayed from a zero state, as the controller runs them; the state is
carried across chunks of `chunk` ticks and detached between them (truncated BPTT), so the
policy learns from the states it will really be in, not from windows started cold.
The loss is the mean squared error in normalised action units ([-1, 1] per action).
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm


def pad(episodes, index):
    """Stack episodes[index] into zero-padded tensors [B, T, ...] and a mask [B, T, 1]."""
    chosen = [episodes[i] for i in index]
    length = max(len(e) for e in chosen)
    b = len(chosen)
    obs = np.zeros((b, length, chosen[0].obs.shape[1]), np.float32)
    dt = np.full((b, length, 1), chosen[0].dt[0, 0], np.float32)  # padding must keep dt > 0
    action = np.zeros((b, length, chosen[0].action.shape[1]), np.float32)
    mask = np.zeros((b, length, 1), np.float32)
    for i, e in enumerate(chosen):
        n = len(e)
        obs[i, :n], dt[i, :n], action[i, :n], mask[i, :n] = e.obs, e.dt, e.action, 1.0
    return tuple(torch.from_numpy(a) for a in (obs, dt, action, mask))


class Trainer:
    """Adam on one policy, stepped once per TBPTT chunk."""

    def __init__(self, policy, lr, chunk, batch, obs_noise=None, grad_clip=1.0):
        self.policy = policy
        self.opt = torch.optim.Adam(policy.parameters(), lr=lr)
        self.chunk, self.batch, self.grad_clip = chunk, batch, grad_clip
        self.obs_noise = None if obs_noise is None else torch.as_tensor(obs_noise,
                                                                         dtype=torch.float32)
        self.steps = 0

    def set_lr(self, lr):
        for group in self.opt.param_groups:
            group['lr'] = lr

    def fit(self, episodes, batches, rng, desc='train'):
        """`batches` gradient batches, each of `batch` episodes drawn at random from all
        gathered so far; one optimiser step per chunk. Returns the mean loss."""
        losses = []
        self.policy.train()
        try:
            for _ in tqdm(range(batches), desc=desc, unit='batch', leave=False):
                index = rng.choice(len(episodes), min(self.batch, len(episodes)), replace=False)
                losses += self._episodes(episodes, index, rng)
        finally:
            self.policy.eval()
        return float(np.mean(losses)) if losses else float('nan')

    def _episodes(self, episodes, index, rng):
        policy = self.policy
        obs, dt, target, mask = pad(episodes, index)
        if self.obs_noise is not None:  # fresh noise each time: augmentation
            obs = obs + torch.from_numpy(
                rng.normal(0.0, 1.0, obs.shape).astype(np.float32)) * self.obs_noise
        target = policy.unit_action(target)
        state = policy.initial_state(obs.shape[0])
        losses = []
        for t0 in range(0, obs.shape[1], self.chunk):
            sl = slice(t0, t0 + self.chunk)
            m = mask[:, sl]
            if m.sum() == 0:
                break
            action, state = policy.unroll(obs[:, sl], dt[:, sl], state)
            err = (policy.unit_action(action) - target[:, sl]) ** 2
            loss = (err * m).sum() / (m.sum() * err.shape[-1])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), self.grad_clip)
            self.opt.step()
            policy.constrain()
            state = state.detach()
            losses.append(loss.item())
            self.steps += 1
        return losses

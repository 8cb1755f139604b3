"""One training loop for every paper: checkpointed, resumable, NaN-guarded, with a progress bar.

Each model file writes a ``step_fn(step) -> {loss_name: float}`` that does its own forward, backward
(through ``trainer.backward``) and optimizer steps, so GANs with several optimizers fit the same loop.

- Devices and multi-GPU come from HF Accelerate (bf16 autocast on CUDA, plain fp32 on the CPU); under
  ``torchrun`` / ``accelerate launch`` the same code trains data-parallel.
- A finished checkpoint (keyed by the config's hash) is reused instead of training again; a partial one
  (saved every ``save_every`` steps, with RNG states) is resumed exactly where it stopped.
- Checkpoints hold only tensors and plain containers and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import random
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .paths import cache_dir
from .results import atomic_write_bytes


class TrainingDivergedError(FloatingPointError):
    """A loss became NaN or infinite; the message names the loss, the step and what to try."""


def config_hash(*parts: Any) -> str:
    """Stable short hash of configs (dataclasses, dicts, strings) for checkpoint names."""
    def plain(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return dataclasses.asdict(obj)
        return obj
    text = json.dumps([plain(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def checkpoint_path(name: str, *config: Any) -> Path:
    """``<cache>/checkpoints/<name>-<hash of config>.pt``: a changed config never reuses an old model."""
    return cache_dir("checkpoints") / f"{name}-{config_hash(name, *config)}.pt"


def save_checkpoint(path: Path, payload: dict) -> None:
    import io
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return {"torch": torch.get_rng_state(), "numpy_keys": torch.from_numpy(keys.astype(np.int64)),
            "numpy_pos": int(pos), "numpy_gauss": [int(has_gauss), float(cached)],
            "python": list(random.getstate()[1]), "python_version": random.getstate()[0]}


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(("MT19937", state["numpy_keys"].numpy().astype(np.uint32), state["numpy_pos"],
                         state["numpy_gauss"][0], state["numpy_gauss"][1]))
    random.setstate((state["python_version"], tuple(state["python"]), None))


class Trainer:
    """Owns the modules and optimizers of one training run and the checkpoint they live in."""

    def __init__(self, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                 path: Path, *, steps: int, desc: str = "train", save_every: int | None = None,
                 schedulers: dict[str, Any] | None = None):
        from accelerate import Accelerator

        self.accelerator = Accelerator(cpu=not torch.cuda.is_available(),
                                       mixed_precision="bf16" if torch.cuda.is_available() else "no")
        names_m, names_o = list(modules), list(optimizers)
        prepared = self.accelerator.prepare(*modules.values(), *optimizers.values())
        prepared = prepared if isinstance(prepared, tuple) else (prepared,)
        self.modules = dict(zip(names_m, prepared[: len(names_m)]))
        self.optimizers = dict(zip(names_o, prepared[len(names_m):]))
        self.schedulers = schedulers or {}
        self.path, self.steps, self.desc = Path(path), steps, desc
        self.save_every = save_every or max(50, steps // 10)
        self.partial = self.path.with_suffix(".partial.pt")
        self.history: dict[str, list[float]] = {}

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    def backward(self, loss: torch.Tensor) -> None:
        self.accelerator.backward(loss)

    def unwrapped(self, name: str) -> nn.Module:
        return self.accelerator.unwrap_model(self.modules[name])

    def _payload(self, step: int, finished: bool) -> dict:
        payload = {"step": step, "finished": finished, "history": self.history,
                   "modules": {n: self.unwrapped(n).state_dict() for n in self.modules}}
        if not finished:
            payload["optimizers"] = {n: o.state_dict() for n, o in self.optimizers.items()}
            payload["schedulers"] = {n: s.state_dict() for n, s in self.schedulers.items()}
            payload["rng"] = _rng_state()
        return payload

    def _load(self, payload: dict) -> int:
        for name, state in payload["modules"].items():
            self.unwrapped(name).load_state_dict(state)
        for name, state in payload.get("optimizers", {}).items():
            self.optimizers[name].load_state_dict(state)
        for name, state in payload.get("schedulers", {}).items():
            self.schedulers[name].load_state_dict(state)
        if "rng" in payload:
            _set_rng_state(payload["rng"])
        self.history = {k: list(v) for k, v in payload["history"].items()}
        return int(payload["step"])

    def fit(self, step_fn: Callable[[int], dict[str, float]]) -> dict[str, list[float]]:
        """Run ``step_fn`` for steps [resume point, steps); reuse a finished checkpoint when present."""
        if self.path.exists():
            self._load(load_checkpoint(self.path))
            print(f"{self.desc}: reusing finished checkpoint {self.path.name}")
            return self.history
        start = self._load(load_checkpoint(self.partial)) if self.partial.exists() else 0
        for module in self.modules.values():
            module.train()
        bar = tqdm(range(start, self.steps), desc=self.desc, initial=start, total=self.steps,
                   disable=not self.accelerator.is_main_process, mininterval=2.0)
        for step in bar:
            losses = step_fn(step)
            for name, value in losses.items():
                value = float(value)
                if not math.isfinite(value):
                    raise TrainingDivergedError(
                        f"{self.desc}: loss {name!r} became {value} at step {step}. Lower the learning rate "
                        f"or check the inputs; the last good partial checkpoint is {self.partial}.")
                self.history.setdefault(name, []).append(value)
            for scheduler in self.schedulers.values():
                scheduler.step()
            if step % 10 == 0:
                bar.set_postfix({k: f"{v[-1]:.3f}" for k, v in self.history.items()}, refresh=False)
            if (step + 1) % self.save_every == 0 and step + 1 < self.steps and self.accelerator.is_main_process:
                save_checkpoint(self.partial, self._payload(step + 1, finished=False))
        for module in self.modules.values():
            module.eval()
        if self.accelerator.is_main_process:
            save_checkpoint(self.path, self._payload(self.steps, finished=True))
            self.partial.unlink(missing_ok=True)
        self.accelerator.wait_for_everyone()
        return self.history

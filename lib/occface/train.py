"""One training loop for every paper: checkpointed, resumable, NaN-guarded, with a progress bar.

Each model file writes a ``step_fn(step) -> {loss_name: float}`` that does its own forward, backward
(through ``trainer.backward``) and optimizer steps, so GANs with several optimizers fit the same loop.

- Devices and multi-GPU come from HF Accelerate (bf16 autocast on CUDA); under ``torchrun`` / ``accelerate
  launch`` the same code trains data-parallel. On the CPU a run trains in fp32, or with bf16 autocast (plus
  channels_last weights and fused Adam) where the profile asks for it (``Profile.train_precision``) and the CPU
  has native bf16 (:func:`cpu_supports_bf16`); ``OCCFACE_PRECISION=fp32`` forces fp32. The precision joins the
  checkpoint key only when it is not fp32, so every fp32 key stays what it was.
- A finished checkpoint (keyed by the config's hash) is reused instead of training again; a partial one
  (saved every ``save_every`` steps, with the torch/NumPy/Python RNG states and those of any ``generators``
  given to the Trainer) is resumed exactly where it stopped: a run killed after a partial checkpoint and
  resumed ends with bit-identical weights on the CPU. Batches drawn from a ``torch.Generator`` seeded per
  step need nothing more; a generator that lives across steps must be passed as ``generators=``.
- Checkpoints hold only tensors and plain containers and load with ``torch.load(weights_only=True)``. One that
  holds anything else is refused (``CheckpointRefusedError`` naming the file, never unpickled); a truncated or
  unreadable one (finished or partial) is named in a ``CorruptCheckpointWarning``, moved aside to
  ``<name>.corrupt-<timestamp>`` and training starts again (from the partial checkpoint where that is good).
- Each checkpoint stores its key (``<name>-<config hash>``, the file name without ``.pt``); one whose stored key
  differs from its file name (copied or renamed from another configuration) raises ``CheckpointKeyError``
  naming both. A checkpoint written before keys were stored is accepted with the key its name gives (the name
  is the hash), so no existing checkpoint is retrained and no key changes.
- A NaN/inf loss raises ``TrainingDivergedError``, naming the last partial checkpoint only when it exists and
  holds finite weights; a partial checkpoint is never written from non-finite weights.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import os
import pickle
import random
import re
import time
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn
from .progress import tqdm

from .paths import cache_dir
from .results import atomic_write_bytes


class TrainingDivergedError(FloatingPointError):
    """A loss became NaN or infinite; the message names the loss, the step and what to try."""


class CheckpointRefusedError(pickle.UnpicklingError):
    """A checkpoint holds something other than tensors and plain containers; it is not loaded."""


class CheckpointUnreadableError(RuntimeError):
    """A checkpoint is truncated, damaged or not a checkpoint of this loop."""


class CheckpointKeyError(RuntimeError):
    """A checkpoint's stored key differs from the key its file name gives; it is not loaded."""


class CorruptCheckpointWarning(UserWarning):
    """An unreadable checkpoint was moved aside and training starts again."""


def config_hash(*parts: Any) -> str:
    """Stable short hash of configs (dataclasses, dicts, strings) for checkpoint names."""
    def plain(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj):
            return dataclasses.asdict(obj)
        return obj
    text = json.dumps([plain(p) for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# CPU training runs on a fixed number of threads: float reductions differ with the thread count, and a
# checkpoint trained by one process (a test, a notebook) is reused by every other. Part of every key.
TRAIN_THREADS = 1


PRECISIONS = ("fp32", "bf16")
_precision = "fp32"  # of this process's CPU training; set per run by set_precision (notebooks, pretraining)


@lru_cache(maxsize=1)
def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 arithmetic (avx512_bf16 or AMX); emulated bf16 is slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(profile: Any) -> str:
    """The CPU training precision of a run at ``profile``: ``OCCFACE_PRECISION`` when set (fp32 | bf16), else
    the profile's ``train_precision``; bf16 falls back to fp32 on a CPU without native bf16 (and on CUDA, where
    Accelerate's own bf16 autocast applies and the keys never carried a precision)."""
    from .profiles import get_profile

    choice = os.environ.get("OCCFACE_PRECISION") or get_profile(profile).train_precision
    if choice not in PRECISIONS:
        raise ValueError(f"OCCFACE_PRECISION / train_precision must be one of {PRECISIONS}, got {choice!r}")
    if choice == "bf16" and (torch.cuda.is_available() or not cpu_supports_bf16()):
        return "fp32"
    return choice


def set_precision(profile_or_precision: Any) -> str:
    """Make later ``checkpoint_path`` keys and ``Trainer`` runs of this process use a profile's precision (or a
    precision named directly: "fp32" / "bf16"); returns it."""
    global _precision
    name = profile_or_precision
    _precision = name if name in PRECISIONS else resolve_precision(name)
    return _precision


def active_precision() -> str:
    return _precision


@contextlib.contextmanager
def use_precision(precision: str):
    """``set_precision`` for a block (tests, benchmarks); restores the previous one after."""
    before = _precision
    set_precision(precision)
    try:
        yield
    finally:
        set_precision(before)


# what a CPU bf16 run adds besides autocast (benchmarks switch them off to measure each)
BF16_CHANNELS_LAST = True
BF16_FUSED_ADAM = True


def use_fused_adam(optimizer: torch.optim.Optimizer) -> bool:
    """Switch an Adam / AdamW to torch's fused kernel (one pass over each parameter instead of several); the
    same update up to float rounding. Returns whether it did (not for other optimizers or foreach ones)."""
    if not isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
        return False
    groups = optimizer.param_groups
    if any(g.get("foreach") or g.get("differentiable") or g.get("capturable") for g in groups):
        return False
    for group in groups:
        group["fused"] = True
    return True


def checkpoint_path(name: str, *config: Any) -> Path:
    """``<cache>/checkpoints/<name>-<hash of config>.pt``: a changed config never reuses an old model. A non-fp32
    training precision joins the key; fp32 adds nothing, so existing keys never move."""
    extra = [] if _precision == "fp32" else [f"precision={_precision}"]
    return cache_dir("checkpoints") / f"{name}-{config_hash(name, *config, f'cpu-threads={TRAIN_THREADS}', *extra)}.pt"


def checkpoint_key(path: Path) -> str:
    """The key a checkpoint's file name gives: ``<name>-<config hash>`` (finished ``.pt`` or ``.partial.pt``)."""
    name = Path(path).name
    for suffix in (".partial.pt", ".pt"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def check_key(path: Path, payload: dict) -> None:
    """Refuse a checkpoint whose stored key is not its file name's (``CheckpointKeyError`` naming both); one
    without a stored key (written before keys were stored) is taken by its name."""
    stored, expected = payload.get("key"), checkpoint_key(path)
    if stored is not None and stored != expected:
        raise CheckpointKeyError(
            f"checkpoint {path} holds the model of key {stored!r}, but its file name gives key {expected!r}: it "
            f"was copied or renamed from another configuration. Delete it (or move it back to {stored}.pt); the "
            "model of this configuration is then trained again.")


def save_checkpoint(path: Path, payload: dict) -> None:
    import io
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: Path) -> dict:
    """``torch.load(path, weights_only=True)`` on the CPU. Raises ``CheckpointRefusedError`` (naming the file and
    the foreign type) when it holds anything but tensors and plain containers, and ``CheckpointUnreadableError``
    (naming the file) when it is truncated, damaged or not a torch file."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        text = str(err)
        if "Unsupported global" in text:
            found = re.search(r"GLOBAL (\S+)", text)
            what = found.group(1) if found else "an object of a non-allowed type"
            raise CheckpointRefusedError(
                f"checkpoint {path} holds {what}, not only tensors and plain containers; refusing to load it "
                "(torch.load(weights_only=True)). occface never writes such a checkpoint: delete the file if you "
                "do not know where it came from.") from None
        raise CheckpointUnreadableError(f"checkpoint {path} is not readable: {_first_line(text)}") from err
    except FileNotFoundError:
        raise
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError) as err:
        raise CheckpointUnreadableError(
            f"checkpoint {path} is truncated or damaged: {type(err).__name__}: {_first_line(str(err))}") from err


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]


def move_aside(path: Path) -> Path:
    """Rename a bad checkpoint to ``<name>.corrupt-<timestamp>`` (kept for inspection, never loaded again)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target, n = path.with_name(f"{path.name}.corrupt-{stamp}-{n}"), n + 1
    os.replace(path, target)
    return target


def _finite_modules(payload: dict) -> bool:
    """True when every floating tensor of the payload's module states is finite."""
    for state in payload.get("modules", {}).values():
        for value in state.values():
            if torch.is_tensor(value) and value.is_floating_point() and not torch.isfinite(value).all():
                return False
    return True


def _rng_state(generators: dict[str, torch.Generator] | None = None) -> dict:
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "numpy_keys": torch.from_numpy(keys.astype(np.int64)),
             "numpy_pos": int(pos), "numpy_gauss": [int(has_gauss), float(cached)],
             "python": list(random.getstate()[1]), "python_version": random.getstate()[0]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generators:
        state["generators"] = {name: g.get_state() for name, g in generators.items()}
    return state


def _set_rng_state(state: dict, generators: dict[str, torch.Generator] | None = None) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(("MT19937", state["numpy_keys"].numpy().astype(np.uint32), state["numpy_pos"],
                         state["numpy_gauss"][0], state["numpy_gauss"][1]))
    random.setstate((state["python_version"], tuple(state["python"]), None))
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])
    for name, g in (generators or {}).items():
        if name in state.get("generators", {}):
            g.set_state(state["generators"][name])


REUSED: list[str] = []  # the models whose finished checkpoint this process reused, in order (Trainer.fit)


class Trainer:
    """Owns the modules and optimizers of one training run and the checkpoint they live in."""

    def __init__(self, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
                 path: Path, *, steps: int, desc: str = "train", save_every: int | None = None,
                 schedulers: dict[str, Any] | None = None, generators: dict[str, torch.Generator] | None = None,
                 precision: str | None = None):
        """``generators``: torch.Generators that live across steps (e.g. a batch sampler's); their states are
        saved in partial checkpoints and restored on resume. A generator seeded per step needs no entry.
        ``precision``: "fp32" or "bf16" for CPU training; by default the process's (``set_precision``), the one
        ``checkpoint_path`` put into ``path``'s key."""
        from accelerate import Accelerator

        self.accelerator = Accelerator(cpu=not torch.cuda.is_available(),
                                       mixed_precision="bf16" if torch.cuda.is_available() else "no")
        names_m, names_o = list(modules), list(optimizers)
        prepared = self.accelerator.prepare(*modules.values(), *optimizers.values())
        prepared = prepared if isinstance(prepared, tuple) else (prepared,)
        self.modules = dict(zip(names_m, prepared[: len(names_m)]))
        self.optimizers = dict(zip(names_o, prepared[len(names_m):]))
        self.schedulers = schedulers or {}
        self.generators = generators or {}
        self.path, self.steps, self.desc = Path(path), steps, desc
        self.save_every = save_every or max(50, steps // 10)
        self.partial = self.path.with_suffix(".partial.pt")
        self.history: dict[str, list[float]] = {}
        self.precision = precision or _precision
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    @property
    def cpu_bf16(self) -> bool:
        return self.precision == "bf16" and self.device.type == "cpu"

    def autocast(self) -> contextlib.AbstractContextManager:
        """bf16 autocast around a CPU training step of a bf16 run (losses and frozen networks included); a
        no-op otherwise (on CUDA, Accelerate's own bf16 autocast wraps the prepared modules)."""
        return torch.autocast("cpu", dtype=torch.bfloat16) if self.cpu_bf16 else contextlib.nullcontext()

    def fast_layout(self, on: bool) -> None:
        """For a CPU bf16 run: channels_last weights (oneDNN's fast layout) and fused Adam while training
        (``on``), the default layout back afterwards, so a model just trained and one loaded from its
        checkpoint evaluate alike. fp32 runs are left exactly as they were (their keys and bits stay)."""
        if not self.cpu_bf16:
            return
        if BF16_CHANNELS_LAST:
            layout = torch.channels_last if on else torch.contiguous_format
            for module in self.modules.values():
                module.to(memory_format=layout)
        if BF16_FUSED_ADAM and on:
            for opt in self.optimizers.values():
                use_fused_adam(getattr(opt, "optimizer", opt))

    @property
    def device(self) -> torch.device:
        return self.accelerator.device

    def backward(self, loss: torch.Tensor) -> None:
        self.accelerator.backward(loss)

    def unwrapped(self, name: str) -> nn.Module:
        return self.accelerator.unwrap_model(self.modules[name])

    def _payload(self, step: int, finished: bool) -> dict:
        payload = {"key": checkpoint_key(self.path), "step": step, "finished": finished, "history": self.history,
                   "modules": {n: self.unwrapped(n).state_dict() for n in self.modules}}
        if not finished:
            payload["optimizers"] = {n: o.state_dict() for n, o in self.optimizers.items()}
            payload["schedulers"] = {n: s.state_dict() for n, s in self.schedulers.items()}
            payload["rng"] = _rng_state(self.generators)
        return payload

    def _load(self, payload: dict) -> int:
        for name, state in payload["modules"].items():
            self.unwrapped(name).load_state_dict(state)
        for name, state in payload.get("optimizers", {}).items():
            self.optimizers[name].load_state_dict(state)
        for name, state in payload.get("schedulers", {}).items():
            self.schedulers[name].load_state_dict(state)
        if "rng" in payload:
            _set_rng_state(payload["rng"], self.generators)
        self.history = {k: list(v) for k, v in payload["history"].items()}
        return int(payload["step"])

    def _snapshot(self) -> dict:
        """The state a failed ``_load`` is rolled back to, so a half-applied bad checkpoint leaves no trace."""
        return {"modules": {n: copy.deepcopy(self.unwrapped(n).state_dict()) for n in self.modules},
                "optimizers": {n: copy.deepcopy(o.state_dict()) for n, o in self.optimizers.items()},
                "schedulers": {n: copy.deepcopy(s.state_dict()) for n, s in self.schedulers.items()},
                "rng": _rng_state(self.generators), "history": copy.deepcopy(self.history), "step": 0}

    def _try_resume(self, path: Path, *, finished: bool) -> int | None:
        """Load ``path`` when it exists and is good; the step it holds, or None. A checkpoint that cannot be read
        or applied is moved aside with a warning; one holding foreign objects raises CheckpointRefusedError."""
        if not path.exists():
            return None
        kind = "finished" if finished else "partial"
        before = self._snapshot()
        try:
            payload = load_checkpoint(path)
            if not isinstance(payload, dict) or not isinstance(payload.get("modules"), dict) \
                    or not isinstance(payload.get("history"), dict) or "step" not in payload:
                raise CheckpointUnreadableError(f"checkpoint {path} does not hold this loop's payload")
            check_key(path, payload)
            return self._load(payload)
        except (CheckpointRefusedError, CheckpointKeyError):
            raise
        except FileNotFoundError:  # another process moved it aside meanwhile
            self._load(before)
            return None
        except (CheckpointUnreadableError, RuntimeError, KeyError, ValueError, TypeError) as err:
            self._load(before)
            aside = path
            if self.accelerator.is_main_process:
                try:
                    aside = move_aside(path)
                except FileNotFoundError:
                    pass
            warnings.warn(f"{self.desc}: the {kind} checkpoint {path} is unusable ({_first_line(str(err))}); "
                          f"moved it to {aside.name} and training starts again"
                          f"{' from the partial checkpoint' if finished and self.partial.exists() else ''}.",
                          CorruptCheckpointWarning, stacklevel=3)
            return None

    def _diverged_message(self, name: str, value: float, step: int) -> str:
        good = None
        if self.partial.exists():
            try:
                payload = load_checkpoint(self.partial)
                good = self.partial if _finite_modules(payload) else None
            except (CheckpointUnreadableError, CheckpointRefusedError):
                good = None
        where = (f"the last good partial checkpoint is {self.partial} (step {payload['step']})" if good else
                 "there is no partial checkpoint with finite weights, so a rerun starts from scratch")
        return (f"{self.desc}: loss {name!r} became {value} at step {step}. Lower the learning rate or check the "
                f"inputs; {where}.")

    def fit(self, step_fn: Callable[[int], dict[str, float]]) -> dict[str, list[float]]:
        """Run ``step_fn`` for steps [resume point, steps); reuse a finished checkpoint when present. A
        single-process run holds the checkpoint's lock (``occface.locks.training_lock``), so a concurrent run of
        the same model waits. Data-parallel ranks train together and must not wait on each other: no lock."""
        from .locks import training_lock

        if self.accelerator.num_processes > 1:
            return self._fit(step_fn)
        with training_lock(self.path, self.desc):
            return self._fit(step_fn)

    def _fit(self, step_fn: Callable[[int], dict[str, float]]) -> dict[str, list[float]]:
        if self._try_resume(self.path, finished=True) is not None:
            if not REUSED:  # one line per process; notebook.finished() counts the rest (a notebook reuses dozens)
                print(f"{self.desc}: reusing finished checkpoint {self.path.name} (further reuses are counted in "
                      f"the notebook's last line)")
            REUSED.append(self.desc)
            return self.history
        start = self._try_resume(self.partial, finished=False) or 0
        for module in self.modules.values():
            module.train()
        threads = torch.get_num_threads()
        if self.device.type == "cpu":  # a CPU model must not depend on which process trained it
            torch.set_num_threads(TRAIN_THREADS)
        self.fast_layout(True)
        try:
            # a context manager: the bar is closed however the loop ends (finished, diverged, interrupted)
            with tqdm(range(start, self.steps), desc=self.desc, initial=start, total=self.steps,
                      disable=not self.accelerator.is_main_process, mininterval=2.0) as bar:
                for step in bar:
                    with self.autocast():
                        losses = step_fn(step)
                    for name, value in losses.items():
                        value = float(value)
                        if not math.isfinite(value):
                            raise TrainingDivergedError(self._diverged_message(name, value, step))
                        self.history.setdefault(name, []).append(value)
                    for scheduler in self.schedulers.values():
                        scheduler.step()
                    if step % 10 == 0:
                        bar.set_postfix({k: f"{v[-1]:.3f}" for k, v in self.history.items()}, refresh=False)
                    if (step + 1) % self.save_every == 0 and step + 1 < self.steps and self.accelerator.is_main_process:
                        payload = self._payload(step + 1, finished=False)
                        if _finite_modules(payload):
                            save_checkpoint(self.partial, payload)
                        else:  # keep the last good one; the loss will say NaN soon enough
                            warnings.warn(f"{self.desc}: weights are not finite at step {step + 1}; "
                                          f"kept the previous partial checkpoint", RuntimeWarning, stacklevel=2)
        finally:
            torch.set_num_threads(threads)
            self.fast_layout(False)
        for module in self.modules.values():
            module.eval()
        if self.accelerator.is_main_process:
            save_checkpoint(self.path, self._payload(self.steps, finished=True))
            self.partial.unlink(missing_ok=True)
        self.accelerator.wait_for_everyone()
        return self.history

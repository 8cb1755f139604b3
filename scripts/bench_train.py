"""Training speed of the seven models that cost the most CPU: samples per CPU-second, where a step's time goes,
and achieved GFLOP/s against this CPU's measured conv peak; ``--compare A B`` trains two settings side by side.

    make bench-train                                   # PROFILE=default, every model, the profile's precision
    python scripts/bench_train.py --profile default --models idgan,pconv --steps 8
    python scripts/bench_train.py --compare main:fp32 bf16       # before -> after, interleaved, one process

Each model is built by its own training function (``train_rla``, ``train_deepfill``, ...) with
``Trainer.fit`` intercepted: the model's trainer hands over its step function instead of training (nothing is
read from or written to the checkpoint cache), and any prerequisite trainer (FSG-GAN's VAE, ID-GAN's parser,
FROM's baseline) is skipped, its network left at its initialisation: its cost per step, not its weights, is
what is measured. Steps run on one thread; the first ``--warmup`` steps of each run are not timed.

Time is CPU time of this process (``time.process_time``), so other processes sharing the cores slow the wall
clock but barely the numbers; quote ratios from one ``--compare`` run all the same. The step breakdown comes
from explicit timers: the batch functions (data), the forward passes of the trained generator (G) and
discriminator (D), of the frozen networks (FaceNet, the parser, FSG-GAN's VAE: "frozen"), every backward pass
(all networks together: autograd cannot be split by network without slowing it), the optimizer steps, and the
rest (loss arithmetic, clipping, glue). FLOPs are counted by ``torch.utils.flop_counter`` on one extra step.

A setting is ``[REF:]PRECISION[,nocl][,nofused]``: ``REF`` a git revision whose ``lib/occface`` is loaded as a
second copy of the library (``main:fp32`` = the code before a change), ``PRECISION`` fp32 or bf16, ``nocl`` /
``nofused`` drop channels_last / fused Adam from a bf16 run. ``--compare`` alternates the two runs step by
step in one process, each with its own RNG streams, and prints the ratio of samples per CPU-second (B / A)
and the gap of the loss averaged over the last 3 steps (``--loss-window``: more, for a longer check that a
precision change does not move where training goes).
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib"))

import occface  # noqa: E402

FLOP_STEPS = 2  # steps whose FLOPs are counted after the timed ones
LOSS_WINDOW = 3  # steps at the end of a run whose mean loss is compared (``--loss-window``)
CATEGORIES = ("data", "G", "D", "frozen", "backward", "optimizer", "other")


# ------------------------------------------------------------------------------------------ timers

class Clock:
    """Exclusive CPU time per label: entering a label pauses the one it is nested in."""

    def __init__(self):
        self.totals: dict[str, float] = {}
        self.stack: list[str] = []
        self.last = time.process_time()

    def _charge(self) -> None:
        now = time.process_time()
        label = self.stack[-1] if self.stack else "other"
        self.totals[label] = self.totals.get(label, 0.0) + now - self.last
        self.last = now

    def enter(self, label: str) -> None:
        self._charge()
        self.stack.append(label)

    def exit(self) -> None:
        self._charge()
        self.stack.pop()

    def reset(self) -> None:
        self.totals, self.stack, self.last = {}, [], time.process_time()


CLOCK = Clock()


def timed(fn: Callable, label: str) -> Callable:
    def wrapper(*args, **kwargs):
        CLOCK.enter(label)
        try:
            return fn(*args, **kwargs)
        finally:
            CLOCK.exit()
    wrapper.__wrapped__ = fn
    return wrapper


def time_method(obj: Any, name: str, label: str) -> None:
    """Wrap ``obj.name`` (an instance attribute shadows the class's method) once."""
    fn = getattr(obj, name, None)
    if callable(fn) and not hasattr(fn, "__wrapped__"):
        setattr(obj, name, timed(fn, label))


def _reachable(fn: Callable, depth: int = 3) -> list[Any]:
    """Objects a step function closes over, and those its nested functions close over."""
    found, todo = [], [(fn, 0)]
    while todo:
        f, d = todo.pop()
        for cell in getattr(f, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            found.append(value)
            if isinstance(value, types.FunctionType) and d < depth:
                todo.append((value, d + 1))
    return found


DATA_METHODS = ("batch", "masked_batch", "paired_batch", "natural_batch")
D_NAMES = ("d", "disc", "critic")


def instrument(lib: types.ModuleType, trainer: Any, step_fn: Callable) -> None:
    """Timers on the trained networks' forwards, the frozen networks, the batch functions, backward and the
    optimizers of one captured run."""
    trained = set()
    for key, module in trainer.modules.items():
        module = trainer.unwrapped(key)
        trained |= {id(m) for m in module.modules()}
        if hasattr(module, "inpainter") and hasattr(module, "critic"):  # ID-GAN holds both players
            time_method(module.inpainter, "forward", "G")
            time_method(module.critic, "forward", "D")
        else:
            time_method(module, "forward", "D" if key in D_NAMES else "G")
    facenet_cls = importlib.import_module(f"{lib.__name__}.pretrained.facenet").FaceNet
    for obj in _reachable(step_fn):
        if isinstance(obj, torch.nn.Module) and id(obj) not in trained:
            for sub in obj.modules():
                if isinstance(sub, facenet_cls):
                    for name in ("forward", "features", "features_and_embedding"):
                        time_method(sub, name, "frozen")
            time_method(obj, "forward", "frozen")
        elif not isinstance(obj, (torch.nn.Module, torch.Tensor, types.FunctionType)):
            for name in DATA_METHODS:
                time_method(obj, name, "data")
    time_method(trainer.accelerator, "backward", "backward")
    for opt in trainer.optimizers.values():  # the wrapper and the torch optimizer (some steps call it directly)
        time_method(opt, "step", "optimizer")
        time_method(getattr(opt, "optimizer", opt), "step", "optimizer")


# ---------------------------------------------------------------------------------- the seven models

@dataclass
class Model:
    label: str
    desc: str                                 # the Trainer desc to capture
    build: Callable[[types.ModuleType, str], tuple[int, Callable[[], Any]]]  # (samples a step, the training call)
    loss: tuple[str, ...]                     # history keys compared, first present wins
    data_functions: tuple[tuple[str, str], ...] = ()  # (module, function) to time as data


def _rla(lib, profile):
    rla = importlib.import_module(f"{lib.__name__}.papers.rla.train")
    cfg = rla.RLAExperimentConfig.for_profile(profile)
    return cfg.batch, lambda: rla.train_rla(cfg, rla.training_pairs(cfg))


def _configured(module: str, config: str,
                train: str) -> Callable[[types.ModuleType, str], tuple[int, Callable[[], Any]]]:
    """The ``build`` of a model trained by ``module.train(cfg)``, ``cfg = module.config.for_profile(profile)``
    (``module`` relative to the library)."""
    def build(lib, profile):
        mod = importlib.import_module(f"{lib.__name__}.{module}")
        cfg = getattr(mod, config).for_profile(profile)
        return cfg.batch, lambda: getattr(mod, train)(cfg)
    return build


def _from(lib, profile):
    fr = importlib.import_module(f"{lib.__name__}.papers.from_.train")
    models = fr.FROMModels(profile)
    return models.recipe.batch, lambda: models.model("FROM")


MODELS = {
    "rla": Model("RLA stage 1", "RLA stage1", _rla, ("loss",)),
    "deepfill": Model("DeepFill", "DeepFill", _configured("baselines.deepfill", "DeepFillConfig", "train_deepfill"),
                      ("g",)),
    "from": Model("FROM fine-tune", "FROM FROM", _from, ("loss",), (("papers.from_.train", "occlude_mixed"),)),
    "fsg": Model("FSG-GAN G+D", "FSG-GAN G/D", _configured("papers.fsg_gan.train", "FSGConfig", "train_fsg_gan"),
                 ("g",)),
    "oagan": Model("OA-GAN paired", "OA-GAN", _configured("papers.oa_gan.train", "OAGANConfig", "train_oa_gan"),
                   ("d_total",)),
    "idgan": Model("ID-GAN Our-wID", "ID-GAN", _configured("papers.id_gan.train", "IDGANTrainConfig", "train_id_gan"),
                   ("total",), (("papers.id_gan.train", "training_batch"),)),
    "pconv": Model("PConv", "PConv", _configured("baselines.pconv", "PConvConfig", "train_pconv"), ("loss",)),
}


# ------------------------------------------------------------------------------------------ settings

@dataclass
class Setting:
    text: str
    ref: str | None
    precision: str
    channels_last: bool = True
    fused: bool = True

    @classmethod
    def parse(cls, text: str) -> Setting:
        ref, _, rest = text.rpartition(":")
        precision, *flags = rest.split(",")
        if precision not in ("fp32", "bf16") or set(flags) - {"nocl", "nofused"}:
            raise SystemExit(f"bad setting {text!r}: [REF:]fp32|bf16[,nocl][,nofused]")
        return cls(text, ref or None, precision, "nocl" not in flags, "nofused" not in flags)


_LIBS: dict[str | None, types.ModuleType] = {None: occface}


def library(ref: str | None) -> types.ModuleType:
    """The working tree's occface, or ``lib/occface`` of git revision ``ref`` imported as a second package
    (every import inside the library is relative, so the copy is self-contained)."""
    if ref in _LIBS:
        return _LIBS[ref]
    name = "occface_" + "".join(c if c.isalnum() else "_" for c in ref)
    root = Path(tempfile.mkdtemp(prefix="bench-train-"))
    archive = subprocess.run(["git", "archive", ref, "lib/occface"], cwd=REPO, capture_output=True, check=True)
    with tarfile.open(fileobj=__import__("io").BytesIO(archive.stdout)) as tar:
        tar.extractall(root, filter="data")
    (root / "lib" / "occface").rename(root / name)
    sys.path.insert(0, str(root))
    _LIBS[ref] = importlib.import_module(name)
    return _LIBS[ref]


# ------------------------------------------------------------------------------------------ one run

class _Captured(Exception):
    def __init__(self, trainer, step_fn):
        super().__init__("captured")
        self.trainer, self.step_fn = trainer, step_fn


@dataclass
class Run:
    model: Model
    setting: Setting
    lib: types.ModuleType
    trainer: Any = None
    step_fn: Callable | None = None
    samples: int = 0
    rng: tuple | None = None
    cpu: float = 0.0
    timed_steps: int = 0
    parts: dict[str, float] = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)
    flops_counted: list[float] = field(default_factory=list)
    loss_window: int = LOSS_WINDOW  # last steps whose mean loss is compared

    @property
    def flops(self) -> float:
        """FLOPs of a step, averaged over the counted ones (OA-GAN updates G every other step)."""
        return float(np.mean(self.flops_counted))

    def build(self, profile: str) -> None:
        lib, train = self.lib, importlib.import_module(f"{self.lib.__name__}.train")
        if self.setting.precision != "fp32" and not hasattr(train, "set_precision"):
            raise SystemExit(f"{self.setting.text}: this library has no bf16 training")
        if hasattr(train, "set_precision"):
            train.set_precision(self.setting.precision)
            train.BF16_CHANNELS_LAST, train.BF16_FUSED_ADAM = self.setting.channels_last, self.setting.fused
        original, want = train.Trainer.fit, self.model.desc

        def fit(trainer, step_fn):
            if trainer.desc.startswith(want):
                raise _Captured(trainer, step_fn)
            return trainer.history  # a prerequisite: left at its initialisation

        train.Trainer.fit = fit
        try:
            self.samples, entry = self.model.build(lib, profile)
            entry()
            raise SystemExit(f"{self.model.label}: no trainer named {want!r} ran")
        except _Captured as got:
            self.trainer, self.step_fn = got.trainer, got.step_fn
        finally:
            train.Trainer.fit = original
        trained_in = getattr(self.trainer, "precision", "fp32")
        if trained_in != self.setting.precision:
            raise SystemExit(f"{self.model.label}: trains in {trained_in} here, asked {self.setting.text} (a bf16 "
                             "run needs a CPU with native bf16)")
        for module in self.trainer.modules.values():
            module.train()
        if hasattr(self.trainer, "fast_layout"):
            self.trainer.fast_layout(True)
        for mod_name, fn_name in self.model.data_functions:
            module = importlib.import_module(f"{lib.__name__}.{mod_name}")
            time_method(module, fn_name, "data")
        instrument(lib, self.trainer, self.step_fn)
        torch.manual_seed(0)
        self.rng = _rng_state()

    def step(self, i: int, timed_step: bool, count_flops: bool = False) -> None:
        _set_rng_state(self.rng)
        autocast = self.trainer.autocast() if hasattr(self.trainer, "autocast") else torch.autocast("cpu",
                                                                                                   enabled=False)
        CLOCK.reset()
        start = time.process_time()
        if count_flops:
            from torch.utils.flop_counter import FlopCounterMode
            counter = FlopCounterMode(display=False)
            counter.mod_tracker = _NoModules()  # its module hooks break autograd.grad (gradient penalties)
            with counter, autocast:
                self.step_fn(i)
            self.flops_counted.append(counter.get_total_flops())
        else:
            with autocast:
                logs = self.step_fn(i)
            key = next((k for k in self.model.loss if k in logs), None)
            self.losses.append(float(logs[key]) if key else float("nan"))
        spent = time.process_time() - start
        CLOCK._charge()
        self.rng = _rng_state()
        if timed_step:
            self.cpu += spent
            self.timed_steps += 1
            for label, value in CLOCK.totals.items():
                self.parts[label] = self.parts.get(label, 0.0) + value

    @property
    def rate(self) -> float:
        return self.samples * self.timed_steps / self.cpu

    @property
    def end_loss(self) -> float:
        return float(np.mean(self.losses[-self.loss_window:]))

    def breakdown(self) -> dict[str, float]:
        total = sum(self.parts.values())
        return {k: 100 * self.parts.get(k, 0.0) / total for k in CATEGORIES}


class _NoModules:
    """Stands in for FlopCounterMode's module tracker: every FLOP counts towards "Global" only."""
    parents = {"Global"}

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return None


def _rng_state() -> tuple:
    return torch.get_rng_state(), np.random.get_state(), random.getstate()


def _set_rng_state(state: tuple) -> None:
    torch.set_rng_state(state[0])
    np.random.set_state(state[1])
    random.setstate(state[2])


def run_models(model: Model, settings: list[Setting], profile: str, steps: int, warmup: int,
               loss_window: int = LOSS_WINDOW) -> list[Run]:
    """Build one run per setting, then step them in turn (A0 B0 A1 B1 ...) and count FLOPs on one more step."""
    runs = [Run(model, s, library(s.ref), loss_window=loss_window) for s in settings]
    for run in runs:
        run.build(profile)
    for i in range(warmup + steps):
        for run in runs:
            run.step(i, timed_step=i >= warmup)
    for run in runs:
        for i in range(FLOP_STEPS):
            run.step(warmup + steps + i, timed_step=False, count_flops=True)
    return runs


# ------------------------------------------------------------------------------------------ peak

def conv_peak(dtype: torch.dtype, seconds: float = 1.5) -> float:
    """GFLOP/s of a 3x3 conv 128 -> 128 channels on 8 x 28 x 28 maps, forward, channels_last, one thread."""
    x = torch.randn(8, 128, 28, 28).to(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(128, 128, 3, padding=1).to(memory_format=torch.channels_last)
    flops = 2 * 8 * 128 * 28 * 28 * 128 * 9
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        for _ in range(3):
            conv(x)
        n, start = 0, time.process_time()
        while time.process_time() - start < seconds:
            conv(x)
            n += 1
    return flops * n / (time.process_time() - start) / 1e9


# ------------------------------------------------------------------------------------------ tables

def speed_cells(runs: list[Run], peaks: dict[str, float]):
    from occface.results import Cell

    for run in runs:
        row = f"{run.model.label} ({run.samples}/step), {run.setting.text}"
        gflops = run.flops / 1e9 * run.timed_steps / run.cpu
        yield Cell(row, "samples / CPU-s", run.rate, unit="samples/s")
        for k, v in run.breakdown().items():
            yield Cell(row, f"{k} %", v, unit="%")
        yield Cell(row, "GFLOP/s", gflops, unit="GFLOP/s")
        yield Cell(row, "% of conv peak", 100 * gflops / peaks[run.setting.precision], unit="%")


def compare_cells(pairs: list[tuple[Run, Run]]):
    from occface.results import Cell

    for a, b in pairs:
        row = a.model.label
        yield Cell(row, f"A: {a.setting.text} samples / CPU-s", a.rate, unit="samples/s")
        yield Cell(row, f"B: {b.setting.text} samples / CPU-s", b.rate, unit="samples/s")
        yield Cell(row, "B / A", b.rate / a.rate, unit="x")
        yield Cell(row, "loss A", a.end_loss, unit="loss")
        yield Cell(row, "loss B", b.end_loss, unit="loss")
        yield Cell(row, "loss gap %", 100 * (b.end_loss - a.end_loss) / abs(a.end_loss), unit="%")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default=os.environ.get("PROFILE", "default"))
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated from {', '.join(MODELS)}")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--setting", default=None, help="one setting (default: the profile's precision)")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="two settings, interleaved")
    parser.add_argument("--no-write", action="store_true", help="print only; write no table")
    parser.add_argument("--loss-window", type=int, default=LOSS_WINDOW,
                        help="last steps whose mean loss is compared")
    args = parser.parse_args(argv)

    from occface.results import Results
    from occface.runtime import seed_everything
    from occface.train import resolve_precision

    torch.set_num_threads(1)
    seed_everything(0)
    names = args.models.split(",")
    unknown = set(names) - set(MODELS)
    if unknown:
        raise SystemExit(f"unknown models {sorted(unknown)}; choose from {', '.join(MODELS)}")
    peaks = {"fp32": conv_peak(torch.float32), "bf16": conv_peak(torch.bfloat16)}
    print(f"conv peak, one thread: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s", flush=True)
    settings = [Setting.parse(s) for s in args.compare] if args.compare else \
        [Setting.parse(args.setting or resolve_precision(args.profile))]
    all_runs = []
    for name in names:
        runs = run_models(MODELS[name], settings, args.profile, args.steps, args.warmup, args.loss_window)
        all_runs.append(runs)
        for run in runs:
            parts = ", ".join(f"{k} {v:.0f}%" for k, v in run.breakdown().items())
            gflops = run.flops / 1e9 * run.timed_steps / run.cpu
            print(f"{run.model.label:16s} {run.setting.text:12s} {run.rate:7.1f} samples/CPU-s  "
                  f"{run.cpu / run.timed_steps:.3f} CPU-s/step  {gflops:5.0f} GFLOP/s "
                  f"({100 * gflops / peaks[run.setting.precision]:.0f}% of peak)  loss {run.end_loss:.4g}  [{parts}]",
                  flush=True)
        if args.compare:
            a, b = runs
            print(f"{'':16s} B/A = {b.rate / a.rate:.2f}x, loss gap {100 * (b.end_loss - a.end_loss) / abs(a.end_loss):+.2f}% "
                  f"after {args.warmup + args.steps} steps", flush=True)
    if args.no_write:
        return
    res = Results("performance", profile=args.profile, dataset="LFW deep-funneled training faces", seed=0)
    notes = [f"one thread; CPU time of the process; {args.steps} timed steps after {args.warmup} warm-up steps; "
             f"conv peak measured here: fp32 {peaks['fp32']:.0f}, bf16 {peaks['bf16']:.0f} GFLOP/s",
             "prerequisite networks (VAE, parser, FROM baseline) at their initialisation: cost, not weights",
             "backward is every network's backward together; 'frozen' = FaceNet, the parser, FSG-GAN's VAE"]
    flat = [r for runs in all_runs for r in runs]
    if args.compare:
        res.table("train_compare", list(compare_cells([tuple(r) for r in all_runs])),
                  title=f"Training speed, {args.compare[0]} (A) vs {args.compare[1]} (B), interleaved",
                  notes=notes + [f"loss: mean of the last {args.loss_window} steps of each run, same batches and seeds"], digits=2)
    res.table("train_speed", list(speed_cells(flat, peaks)), title="Training speed and where a step's time goes",
              notes=notes, digits=1)
    print(f"tables in {res.folder}")


if __name__ == "__main__":
    main()

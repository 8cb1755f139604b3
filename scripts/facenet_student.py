"""Issue 23, part 4: can a 64-px student stand in for FaceNet in the training losses?

FaceNet (``occface.nn.identity``) resizes every face to a 160x160 chip and costs 30-58 % of a training step
(``scripts/bench_train.py``). This script distils it into a compact 64-px ResNet on the training people only,
then measures, on held-out people (LFW View-2 folds 6-10), whether the student may replace it in the
identity losses:

1. verification accuracy of the student within 3 points of FaceNet's at 64-px input (the library's protocol,
   ``occface.eval.protocols.verification``, both with their 95 % intervals and the paired difference);
2. the identity-loss gradient d identity_cosine(E(x), E(y)) / dx of the student has mean cosine >= 0.9 with
   FaceNet's, for occluded (held-out occluder templates) and noised held-out faces x against their clean y.

It also times forward+backward per 16 faces (one thread, interleaved). Evaluation stays on dlib and FaceNet
whatever the outcome: the student would only ever enter training losses.

Distillation: the teacher's embeddings of three views of each training face (clean, mirrored, and an
occluded or noised copy) and its identity-loss gradient on the third view are computed once and cached
(``<cache>/students/facenet64-teacher-<key>.pt``). The student learns 1 - cos to the teacher's embeddings on
all three views plus 1 - cos between its identity-loss gradient and the teacher's on the corrupted view
(double backward: embeddings alone leave the gradients of the two networks unrelated). A tenth of the
training people is held out as validation; the checkpoint kept is the one best there. The student is cached
as ``<cache>/students/facenet64-<key of the config>.pt`` (a run interrupted resumes from ``.partial.pt``).
No feature-map head: the perceptual/style losses keep FaceNet's maps (see the notes of the table).

    python scripts/facenet_student.py --profile default --steps 1500
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from occface.nn.losses import identity_cosine  # noqa: E402
from occface.pretrained.facenet import prewhiten  # noqa: E402
from occface.progress import tqdm  # noqa: E402

VERSION = "facenet64-v1"  # bump when the student, the views or the losses change
ACCURACY_POINTS = 3.0     # criterion 1: student accuracy at most this many points below FaceNet's
GRADIENT_COSINE = 0.9     # criterion 2: mean cosine of the identity-loss gradients at least this


@dataclass(frozen=True)
class Config:
    steps: int = 1500
    batch: int = 32          # clean or mirrored faces a step; as many corrupted ones come on top
    grad_batch: int = 12     # corrupted faces a step whose loss gradient is matched (double backward is dear)
    grad_weight: float = 1.0
    lr: float = 2e-3
    weight_decay: float = 5e-4
    width: int = 32
    size: int = 64
    val_fraction: float = 0.1
    val_every: int = 150
    seed: int = 0

    def key(self) -> str:
        text = json.dumps({"version": VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------- student

class Block(nn.Module):
    """ResNet basic block (two 3x3 convs with batch norm), 1x1 projection when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = nn.Identity() if cin == cout and stride == 1 else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + self.short(x))


class Student(nn.Module):
    """(N,3,64,64) aligned faces in [0,1] -> (N,512) unit embeddings, like ``identity_network()``.

    Input prewhitened as FaceNet's is (so both ignore brightness and contrast the same way); a stride-2 stem
    to 32x32, stages of width w, 2w, 4w, 8w down to 4x4, then a global depthwise conv (keeps where on the
    face a feature is, unlike average pooling) and a linear map to 512."""

    def __init__(self, width: int = 32, dim: int = 512):
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(3, w, 3, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU())
        self.body = nn.Sequential(Block(w, w, 1), Block(w, 2 * w, 2), Block(2 * w, 2 * w, 1),
                                  Block(2 * w, 4 * w, 2), Block(4 * w, 4 * w, 1),
                                  Block(4 * w, 8 * w, 2), Block(8 * w, 8 * w, 1))
        self.head = nn.Sequential(nn.Conv2d(8 * w, 8 * w, 4, groups=8 * w, bias=False), nn.BatchNorm2d(8 * w),
                                  nn.Flatten(), nn.Linear(8 * w, dim), nn.BatchNorm1d(dim))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.body(self.stem(prewhiten(images)))), dim=1, eps=1e-10)


def distil_loss(student_emb: torch.Tensor, teacher_emb: torch.Tensor) -> torch.Tensor:
    """mean(1 - cos) between student and teacher embeddings: 0 when they agree."""
    return identity_cosine(student_emb, teacher_emb)


def loss_gradient(net: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor,
                  create_graph: bool = False) -> torch.Tensor:
    """(N, C*H*W) d identity_cosine(net(x), net(y).detach()) / dx: what an identity loss feeds a generator.
    One pass over x and y together (a batch-norm student in training mode sees one batch)."""
    x = x.detach().requires_grad_(True)
    emb_x, emb_y = net(torch.cat([x, y])).split(len(x))
    grad, = torch.autograd.grad(identity_cosine(emb_x, emb_y.detach()), x, create_graph=create_graph)
    return grad.flatten(1)


def gradient_loss(student: nn.Module, x: torch.Tensor, y: torch.Tensor, teacher_grad: torch.Tensor) -> torch.Tensor:
    """mean(1 - cos) between the student's identity-loss gradient and the teacher's (differentiable)."""
    grad = loss_gradient(student, x, y, create_graph=True)
    return (1 - F.cosine_similarity(grad, teacher_grad.flatten(1).float(), dim=1)).mean()


# -------------------------------------------------------------------------------------- teacher's views

def corrupt(images: torch.Tensor, landmarks: torch.Tensor, seed: int, templates: str) -> tuple[torch.Tensor, list[str]]:
    """Generated-like inputs: two thirds occluded by an occluder template of a random kind (``templates``:
    "train" for distillation, "test" for the check), one third with Gaussian noise of sigma 0.03-0.15."""
    from occface.faces.occlusion import KINDS, occlude

    gen = torch.Generator().manual_seed(seed)
    choice = torch.randint(0, len(KINDS) * 3 // 2, (len(images),), generator=gen)  # >= len(KINDS): noise
    out, labels = images.clone(), ["noise"] * len(images)
    for k, kind in enumerate(KINDS):
        idx = torch.nonzero(choice == k).flatten()
        if len(idx):
            out[idx] = occlude(images[idx], kind, landmarks=landmarks[idx], seed=seed + k, templates=templates).images
            for i in idx.tolist():
                labels[i] = kind
    noisy = choice >= len(KINDS)
    sigma = 0.03 + 0.12 * torch.rand(int(noisy.sum()), 1, 1, 1, generator=gen)
    out[noisy] = (images[noisy] + sigma * torch.randn(images[noisy].shape, generator=gen)).clamp(0, 1)
    return out, labels


def teacher_views(faces, cfg: Config) -> dict[str, torch.Tensor]:
    """FaceNet's embeddings of every training face clean, mirrored and corrupted (randomly mirrored too) and
    its identity-loss gradient (unit-normalised, float16) on the corrupted copy against the clean face."""
    from occface.nn.identity import identity_network

    teacher = identity_network("cpu")
    gen = torch.Generator().manual_seed(cfg.seed)
    corrupted, _ = corrupt(faces.images, faces.landmarks, cfg.seed, "train")
    flipped = torch.rand(len(faces), generator=gen) < 0.5
    corrupted[flipped] = corrupted[flipped].flip(-1)
    out = {k: torch.empty(len(faces), 512) for k in ("clean", "mirrored", "corrupted")}
    out["grad"] = torch.empty(len(faces), 3 * cfg.size * cfg.size, dtype=torch.float16)
    step = 32
    for i in tqdm(range(0, len(faces), step), desc="teacher views (cached once)", mininterval=5.0):
        sl = slice(i, i + step)
        with torch.no_grad():
            out["clean"][sl] = teacher(faces.images[sl])
            out["mirrored"][sl] = teacher(faces.images[sl].flip(-1))
        target = torch.where(flipped[sl, None], out["mirrored"][sl], out["clean"][sl])
        x = corrupted[sl].clone().requires_grad_(True)
        emb = teacher(x)
        grad, = torch.autograd.grad(identity_cosine(emb, target), x)
        out["corrupted"][sl] = emb.detach()
        out["grad"][sl] = F.normalize(grad.flatten(1), dim=1).half()
    out.update(images=corrupted.half(), flipped=flipped)
    return out


def cached_teacher_views(faces, cfg: Config) -> dict[str, torch.Tensor]:
    from occface.paths import cache_dir
    from occface.pretrained.facenet import graph_path

    # keyed on the faces and on FaceNet's graph (its size, as FaceNet's own cache is)
    facenet = str(graph_path().stat().st_size)
    key = hashlib.sha256("\n".join([VERSION, str(cfg.seed), str(cfg.size), facenet, *faces.paths])
                         .encode()).hexdigest()[:12]
    path = cache_dir("students") / f"facenet64-teacher-{key}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    views = teacher_views(faces, cfg)
    torch.save(views, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)
    return views


# ----------------------------------------------------------------------------------------------- distil

def split_people(identity: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of (training, validation) faces, validation = a seeded ``fraction`` of the people."""
    people = identity.unique()
    order = torch.randperm(len(people), generator=torch.Generator().manual_seed(seed))
    held = people[order[:int(fraction * len(people))]]
    val = torch.isin(identity, held)
    return torch.nonzero(~val).flatten(), torch.nonzero(val).flatten()


def clean_of(images: torch.Tensor, views: dict, idx: torch.Tensor) -> torch.Tensor:
    """The clean face each corrupted view came from, mirrored where the view was."""
    y = images[idx]
    return torch.where(views["flipped"][idx, None, None, None], y.flip(-1), y)


def train_step(student: nn.Module, opt: torch.optim.Optimizer, images: torch.Tensor, views: dict,
               idx: torch.Tensor, corrupt_idx: torch.Tensor, mirror: torch.Tensor, cfg: Config) -> dict[str, float]:
    """One AdamW step on clean/mirrored faces ``idx`` and corrupted ones ``corrupt_idx``."""
    plain = torch.where(mirror[:, None, None, None], images[idx].flip(-1), images[idx])
    target = torch.where(mirror[:, None], views["mirrored"][idx], views["clean"][idx])
    emb = student(torch.cat([plain, views["images"][corrupt_idx].float()]))
    emb_loss = distil_loss(emb, torch.cat([target, views["corrupted"][corrupt_idx]]))
    g = corrupt_idx[:cfg.grad_batch]
    grad_loss = gradient_loss(student, views["images"][g].float(), clean_of(images, views, g), views["grad"][g])
    opt.zero_grad(set_to_none=True)
    (emb_loss + cfg.grad_weight * grad_loss).backward()
    opt.step()
    return {"embedding": emb_loss.item(), "gradient": grad_loss.item()}


def validate(student: nn.Module, images: torch.Tensor, views: dict, idx: torch.Tensor) -> dict[str, float]:
    """Mean embedding cosine to the teacher (clean faces) and gradient cosine (corrupted), validation people."""
    student.eval()
    with torch.no_grad():
        emb = torch.cat([student(images[i]) for i in idx.split(256)])
    grad = torch.cat([loss_gradient(student, views["images"][i].float(), clean_of(images, views, i))
                      for i in idx.split(256)])
    student.train()
    return {"embedding_cos": float(F.cosine_similarity(emb, views["clean"][idx]).mean()),
            "gradient_cos": float(F.cosine_similarity(grad, views["grad"][idx].float()).mean())}


def distil(cfg: Config, path: Path) -> dict:
    """Train the student (resuming ``<path>.partial.pt``); returns the checkpoint dict also saved at ``path``."""
    from occface.faces.data import load_faces

    faces = load_faces("lfw", size=cfg.size, split="train")
    teacher_start = time.process_time()
    views = cached_teacher_views(faces, cfg)
    teacher_cpu = time.process_time() - teacher_start
    train_idx, val_idx = split_people(faces.identity, cfg.val_fraction, cfg.seed)
    val_idx = val_idx[:256]  # enough for choosing a checkpoint, cheap to run every ``val_every`` steps
    torch.manual_seed(cfg.seed)
    student = Student(cfg.width)
    opt = torch.optim.AdamW(student.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps, pct_start=0.05)
    gen = torch.Generator().manual_seed(cfg.seed)
    state = {"step": 0, "cpu": 0.0, "history": [], "best": None, "best_score": -1.0}
    partial = path.with_suffix(".partial.pt")
    if partial.exists():
        saved = torch.load(partial, weights_only=True)
        student.load_state_dict(saved["student"])
        opt.load_state_dict(saved["opt"])
        sched.load_state_dict(saved["sched"])
        gen.set_state(saved["gen"])
        state = saved["state"]
    with tqdm(total=cfg.steps, initial=state["step"], desc="distilling FaceNet", mininterval=5.0) as bar:
        while state["step"] < cfg.steps:
            start = time.process_time()
            pick = train_idx[torch.randint(len(train_idx), (2 * cfg.batch,), generator=gen)]
            mirror = torch.rand(cfg.batch, generator=gen) < 0.5
            logs = train_step(student, opt, faces.images, views, pick[:cfg.batch], pick[cfg.batch:], mirror, cfg)
            sched.step()
            state["step"] += 1
            if state["step"] % cfg.val_every == 0 or state["step"] == cfg.steps:
                val = validate(student, faces.images, views, val_idx)
                state["history"].append({"step": state["step"], **logs, **val})
                score = val["embedding_cos"] + val["gradient_cos"]
                if score > state["best_score"]:
                    state["best"], state["best_score"] = copy.deepcopy(student.state_dict()), score
                state["cpu"] += time.process_time() - start
                torch.save({"student": student.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                            "gen": gen.get_state(), "state": state}, partial)
                bar.set_postfix(val_emb=f"{val['embedding_cos']:.3f}", val_grad=f"{val['gradient_cos']:.3f}")
            else:
                state["cpu"] += time.process_time() - start
            bar.update(1)
    best = max(state["history"], key=lambda h: h["embedding_cos"] + h["gradient_cos"])
    result = {"student": state["best"], "config": asdict(cfg), "history": state["history"], "best_step": best["step"],
              "distil_cpu_s": state["cpu"], "teacher_cache_cpu_s": teacher_cpu,
              "train_people": int(faces.identity[train_idx].unique().numel()), "train_faces": int(len(train_idx))}
    torch.save(result, path)
    partial.unlink(missing_ok=True)
    return result


def load_student(cfg: Config) -> tuple[Student, dict]:
    """The cached student of ``cfg``, distilled first when its file is missing."""
    from occface.paths import cache_dir

    path = cache_dir("students") / f"facenet64-{cfg.key()}.pt"
    saved = torch.load(path, weights_only=True) if path.exists() else distil(cfg, path)
    student = Student(cfg.width)
    student.load_state_dict(saved["student"])
    return student.eval().requires_grad_(False), saved


# -------------------------------------------------------------------------------------------- evaluation

def embedder(net: nn.Module) -> Callable[[torch.Tensor], np.ndarray]:
    def embed(images: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return torch.cat([net(x) for x in images.split(64)]).numpy()
    return embed


def gradient_agreement(teacher: nn.Module, student: nn.Module, n: int, seed: int) -> dict[str, np.ndarray]:
    """Per-face cosine of the student's and FaceNet's identity-loss gradients on ``n`` held-out faces
    (first images of View-2 test pairs), corrupted with held-out occluder templates or noise."""
    from occface.faces.data import load_pair_faces

    pf = load_pair_faces(size=64, max_pairs=n, seed=seed)
    x, kinds = corrupt(pf.first, pf.landmarks_first, seed, "test")
    cos = []
    for xb, yb in zip(x.split(32), pf.first.split(32)):
        cos.append(F.cosine_similarity(loss_gradient(student, xb, yb), loss_gradient(teacher, xb, yb), dim=1))
    return {"cosine": torch.cat(cos).numpy(), "kind": np.array(kinds)}


def step_seconds(net: nn.Module, x: torch.Tensor, target: torch.Tensor) -> float:
    """CPU seconds of an identity loss's forward and backward through ``net`` to the input ``x`` (the
    target embedding given, as a training step computes it once without gradient)."""
    start = time.process_time()
    x = x.detach().requires_grad_(True)
    identity_cosine(net(x), target).backward()
    return time.process_time() - start


def timing(teacher: nn.Module, student: nn.Module, repeats: int = 7) -> dict[str, float]:
    """Median CPU seconds per 16 faces, FaceNet and student alternated (one warm-up each)."""
    x, target = torch.rand(16, 3, 64, 64), F.normalize(torch.randn(16, 512), dim=1)
    times: dict[str, list[float]] = {"facenet": [], "student": []}
    for r in range(repeats + 1):
        for name, net in (("facenet", teacher), ("student", student)):
            seconds = step_seconds(net, x, target)
            if r:
                times[name].append(seconds)
    return {k: float(np.median(v)) for k, v in times.items()}


def evaluate(profile: str, student: nn.Module, grad_faces: int) -> dict:
    from occface.eval.metrics import mean_interval, paired_difference
    from occface.eval.protocols import verification
    from occface.nn.identity import identity_network

    teacher = identity_network("cpu")
    facenet = verification(profile, embed=embedder(teacher), per_pair=True)
    ours = verification(profile, embed=embedder(student), per_pair=True)
    diff = paired_difference(ours["correct"], facenet["correct"], facenet["cluster"])
    grads = gradient_agreement(teacher, student, grad_faces, seed=0)
    cos = grads["cosine"]
    return {"facenet": facenet, "student": ours, "difference": diff, "grad": grads,
            "grad_ci": mean_interval(cos), "timing": timing(teacher, student)}


# ------------------------------------------------------------------------------------------------ tables

def cells(ev: dict) -> list:
    """Rows: the measures; columns: the value (with its 95 % interval where there is one) and, for the gradient
    cosines, their spread over faces."""
    from occface.results import Cell

    def interval(row: str, value: float, ci: tuple[float, float], unit: str, scale: float = 100.0) -> Cell:
        return Cell(row, "value", scale * value, unit=unit, ci_low=scale * ci[0], ci_high=scale * ci[1])

    out = []
    for name, key in (("FaceNet, 64-px input", "facenet"), ("student", "student")):
        v = ev[key]
        out += [interval(f"{name}: verification accuracy", v["accuracy"], v["accuracy_ci"], "%"),
                interval(f"{name}: EER", v["eer"], v["eer_ci"], "%")]
    d = ev["difference"]
    out.append(interval("student - FaceNet: verification accuracy", d["difference"], d["difference_ci"], "points"))
    cos, kinds = ev["grad"]["cosine"], ev["grad"]["kind"]
    for label, sel in (("all", kinds == kinds), ("occluded", kinds != "noise"), ("noised", kinds == "noise")):
        c = cos[sel]
        row = f"gradient cosine, {label} ({len(c)} faces)"
        out.append(interval(row, float(c.mean()), ev["grad_ci"], "cos", 1.0) if label == "all"
                   else Cell(row, "value", float(c.mean()), unit="cos"))
        out += [Cell(row, name, float(fn(c)), unit="cos") for name, fn in (("std", np.std), ("min", np.min),
                                                                            ("max", np.max))]
    t = ev["timing"]
    out += [Cell("forward+backward per 16 faces, FaceNet", "value", t["facenet"], unit="CPU-s"),
            Cell("forward+backward per 16 faces, student", "value", t["student"], unit="CPU-s"),
            Cell("forward+backward, FaceNet / student", "value", t["facenet"] / t["student"], unit="x")]
    return out


def verdict(ev: dict) -> tuple[bool, bool]:
    gap = 100 * (ev["facenet"]["accuracy"] - ev["student"]["accuracy"])
    return gap <= ACCURACY_POINTS, float(ev["grad"]["cosine"].mean()) >= GRADIENT_COSINE


def notes(ev: dict, saved: dict, params: int) -> list[str]:
    acc_ok, grad_ok = verdict(ev)
    gap = 100 * (ev["facenet"]["accuracy"] - ev["student"]["accuracy"])
    cfg, best = saved["config"], next(h for h in saved["history"] if h["step"] == saved["best_step"])
    keep = "KEEP the student for the training losses" if acc_ok and grad_ok else \
        "do NOT use the student in the training losses: FaceNet stays"
    return [
        f"criterion 1 (accuracy within {ACCURACY_POINTS:g} points of FaceNet's): {'PASS' if acc_ok else 'FAIL'} "
        f"(FaceNet - student = {gap:.2f} points)",
        f"criterion 2 (mean identity-loss gradient cosine >= {GRADIENT_COSINE}): {'PASS' if grad_ok else 'FAIL'} "
        f"({ev['grad']['cosine'].mean():.3f})",
        f"verdict: {keep}; evaluation stays on dlib and FaceNet either way",
        f"verification: {ev['facenet']['pairs']} held-out View-2 pairs (folds 6-10, people never trained on), "
        "clean, cosine scores, 10-fold accuracy; 95 % intervals: the protocol's bootstrap over pairs; "
        "student - FaceNet: paired bootstrap on the same pairs",
        "gradient cosine: d identity_cosine(E(x), E(y).detach()) / dx per face, x = first image of a held-out pair "
        "occluded (test occluder templates, two thirds) or noised (sigma 0.03-0.15, one third), y = that face "
        "clean; interval of the mean: bootstrap over faces",
        f"student: 64-px ResNet, {params / 1e6:.2f} M parameters, width {cfg['width']}; distilled "
        f"{cfg['steps']} steps (batch {cfg['batch']} clean/mirrored + {cfg['batch']} corrupted, gradient matched on "
        f"{cfg['grad_batch']}, AdamW lr {cfg['lr']} one-cycle) on {saved['train_faces']} faces of "
        f"{saved['train_people']} training people; kept step {saved['best_step']} (best on validation people: "
        f"embedding cos {best['embedding_cos']:.3f}, gradient cos {best['gradient_cos']:.3f}); "
        f"{saved['distil_cpu_s'] / 60:.1f} CPU-min distilling, {saved['teacher_cache_cpu_s'] / 60:.1f} CPU-min "
        "for the teacher's cached views (0 when read from the cache)",
        "no feature-map head: the perceptual/style losses (PerceptualStyle) would still need FaceNet's maps",
        "timing: median of 7 interleaved repeats, one thread, CPU time of the process, input 16 x 3 x 64 x 64",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--steps", type=int, default=Config.steps, help="distillation steps")
    parser.add_argument("--grad-faces", type=int, default=300, help="held-out faces of the gradient check")
    parser.add_argument("--out", default=None, help="table folder, <results root>/<profile>/performance "
                                                    "(default: results/<profile>/performance)")
    args = parser.parse_args(argv)

    from occface.paths import results_root
    from occface.results import Results
    from occface.runtime import seed_everything

    out = Path(args.out or results_root() / args.profile / "performance").resolve()
    if out.parts[-2:] != (args.profile, "performance"):
        parser.error(f"--out must end in {args.profile}/performance (the results layout), got {out}")
    torch.set_num_threads(1)
    seed_everything(0)
    cfg = Config(steps=args.steps)
    student, saved = load_student(cfg)
    params = sum(p.numel() for p in student.parameters())
    ev = evaluate(args.profile, student, args.grad_faces)
    res = Results("performance", profile=args.profile, seed=cfg.seed,
                  dataset="LFW deep-funneled: training people (distillation), View-2 folds 6-10 (evaluation)",
                  root=out.parents[1])
    table_notes = notes(ev, saved, params)
    res.table("facenet_student", cells(ev), title="A 64-px student of FaceNet for the identity losses",
              notes=table_notes, digits=3)
    print("\n".join(table_notes))
    print(f"tables in {res.folder}")


if __name__ == "__main__":
    main()

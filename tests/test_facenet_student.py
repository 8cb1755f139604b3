"""The pieces of scripts/facenet_student.py (issue 23, part 4): the student, its losses, a few distillation steps."""

import importlib.util
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("facenet_student", ROOT / "scripts" / "facenet_student.py")
facenet_student = importlib.util.module_from_spec(_spec)
sys.modules["facenet_student"] = facenet_student  # dataclasses look their module up there
_spec.loader.exec_module(facenet_student)


def test_student_gives_unit_512_embeddings_and_losses_vanish_on_agreement():
    torch.manual_seed(0)
    student = facenet_student.Student(width=8)
    x, y = torch.rand(6, 3, 64, 64), torch.rand(6, 3, 64, 64)
    with torch.no_grad():
        emb = student(x)
    assert emb.shape == (6, 512)
    assert torch.allclose(emb.norm(dim=1), torch.ones(6), atol=1e-5)
    assert float(facenet_student.distil_loss(emb, emb)) < 1e-6
    assert float(facenet_student.distil_loss(emb, -emb)) > 1.99  # opposite embeddings: 1 - (-1)
    # the student's own identity-loss gradient as the teacher's: nothing left to match
    own = facenet_student.loss_gradient(student, x, y)
    assert own.shape == (6, 3 * 64 * 64) and float(own.norm()) > 0
    assert facenet_student.gradient_loss(student, x, y, own).item() < 1e-4
    assert facenet_student.gradient_loss(student, x, y, -own).item() > 1.99


def test_distillation_steps_bring_the_student_to_the_teacher():
    torch.manual_seed(0)
    cfg = facenet_student.Config(batch=4, grad_batch=2, lr=3e-3)
    student = facenet_student.Student(width=8)
    images = torch.rand(4, 3, 64, 64)
    gen = torch.Generator().manual_seed(1)
    unit = lambda *shape: torch.nn.functional.normalize(torch.randn(*shape, generator=gen), dim=1)  # noqa: E731
    views = {"clean": unit(4, 512), "mirrored": unit(4, 512), "corrupted": unit(4, 512),
             "grad": unit(4, 3 * 64 * 64).half(), "images": (images + 0.1 * torch.rand(4, 3, 64, 64)).half(),
             "flipped": torch.tensor([True, False, True, False])}
    opt = torch.optim.AdamW(student.parameters(), lr=cfg.lr)
    idx, mirror = torch.arange(4), torch.tensor([False, True, False, True])
    losses = [facenet_student.train_step(student, opt, images, views, idx, idx, mirror, cfg) for _ in range(25)]
    assert losses[-1]["embedding"] < 0.5 * losses[0]["embedding"]

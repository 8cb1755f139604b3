"""CPU training precision: fp32 keys never move, quick stays fp32, bf16 trains to the same place as fp32."""

import pytest
import torch
import torch.nn.functional as F

from occface import train
from occface.papers.id_gan.model import InpaintingNetwork


def test_fp32_checkpoint_keys_are_the_keys_from_before_precision_existed(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path))
    with train.use_precision("fp32"):
        assert train.checkpoint_path("x", {"a": 1}).name == "x-638bc7022911.pt"  # the key before this change
    with train.use_precision("bf16"):
        assert train.checkpoint_path("x", {"a": 1}).name != "x-638bc7022911.pt"


def test_quick_trains_in_fp32_and_default_in_bf16_only_where_the_cpu_has_it(monkeypatch):
    monkeypatch.delenv("OCCFACE_PRECISION", raising=False)
    monkeypatch.setattr(train, "cpu_supports_bf16", lambda: True)
    assert train.resolve_precision("quick") == "fp32"
    assert train.resolve_precision("default") == "bf16"
    monkeypatch.setenv("OCCFACE_PRECISION", "fp32")  # the flag
    assert train.resolve_precision("default") == "fp32"
    monkeypatch.delenv("OCCFACE_PRECISION")
    monkeypatch.setattr(train, "cpu_supports_bf16", lambda: False)
    assert train.resolve_precision("default") == "fp32"


def test_an_unknown_precision_is_named(monkeypatch):
    monkeypatch.setenv("OCCFACE_PRECISION", "fp16")
    with pytest.raises(ValueError, match="fp16"):
        train.resolve_precision("default")


def _train_inpainter(path, precision: str, steps: int = 60) -> tuple[list[float], InpaintingNetwork]:
    torch.manual_seed(0)
    net = InpaintingNetwork(image_size=16, width=8)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    trainer = train.Trainer({"net": net}, {"opt": opt}, path, steps=steps, precision=precision, desc=precision)
    coarse = torch.rand(8, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    clean = F.interpolate(coarse, size=16, mode="bilinear", align_corners=False)  # smooth: learnable
    mask = torch.zeros(8, 1, 16, 16)
    mask[..., 4:10, 5:12] = 1

    def step(i: int) -> dict[str, float]:
        loss = F.mse_loss(trainer.modules["net"](clean * (1 - mask), mask), clean)
        opt.zero_grad(set_to_none=True)
        trainer.backward(loss)
        opt.step()
        return {"loss": loss.item()}

    return trainer.fit(step)["loss"], net


def test_a_bf16_run_ends_within_3_percent_of_the_fp32_run(tmp_path):
    """The stated tolerance: the mean loss of the last 5 of 60 steps within 3 % (relative) of fp32's, and the
    weights end as fp32 tensors in the default layout (the checkpoint and a fresh model evaluate alike)."""
    fp32, _ = _train_inpainter(tmp_path / "fp32.pt", "fp32")
    bf16, net = _train_inpainter(tmp_path / "bf16.pt", "bf16")
    end32, end16 = sum(fp32[-5:]) / 5, sum(bf16[-5:]) / 5
    assert fp32[-1] < 0.5 * fp32[0]  # it learned something, so the comparison means something
    assert abs(end16 - end32) / end32 < 0.03, (end32, end16)
    assert fp32 != bf16  # bf16 really ran
    for p in net.parameters():
        assert p.dtype == torch.float32 and p.is_contiguous()


def test_fused_adam_takes_the_same_step_as_plain_adam():
    torch.manual_seed(0)
    a = torch.nn.Linear(7, 5)
    b = torch.nn.Linear(7, 5)
    b.load_state_dict(a.state_dict())
    opt_a, opt_b = torch.optim.Adam(a.parameters(), lr=1e-2), torch.optim.Adam(b.parameters(), lr=1e-2)
    assert train.use_fused_adam(opt_b)
    x = torch.randn(16, 7)
    for _ in range(5):
        for net, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-6, atol=1e-7)
    assert not train.use_fused_adam(torch.optim.SGD(a.parameters(), lr=0.1))


def test_facenet_under_bf16_autocast_runs_a_bf16_copy_that_computes_what_autocast_would():
    from occface.pretrained.facenet import FaceNet, InceptionResNetV1, prewhiten

    torch.manual_seed(0)
    facenet = FaceNet(InceptionResNetV1())
    faces = torch.rand(2, 3, 24, 24)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        facenet_input = prewhiten(facenet.chips(faces))
        reference = facenet.net(facenet_input)  # autocast on the fp32 weights
        fast = facenet(faces)
        assert facenet.trunk() is not facenet.net and next(facenet.trunk().parameters()).dtype == torch.bfloat16
    assert facenet_input.dtype == torch.float32
    assert torch.nn.functional.cosine_similarity(fast.float(), reference.float()).min() > 0.999
    assert facenet.trunk() is facenet.net  # outside autocast: the fp32 network, as evaluation uses it
    assert "_bf16_trunk" not in "".join(facenet.state_dict())  # not a submodule: checkpoints never see it

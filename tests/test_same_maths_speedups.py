"""Work removed from training steps without changing their maths: the loss and gradients before == after."""

import copy

import torch

from occface.baselines import deepfill
from occface.nn.gan import GANSteps
from occface.nn.identity import _Features
from occface.nn.losses import PerceptualStyle
from occface.papers.id_gan import model as id_gan
from occface.pretrained.facenet import FaceNet, InceptionResNetV1


class _Pyramid(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.Conv2d(4, 6, 3, stride=2, padding=1)

    def forward(self, x):
        first = self.a(x).relu()
        return [first, self.b(first)]


def _grads(loss, params):
    return torch.autograd.grad(loss, params, retain_graph=True)


def test_perceptual_style_over_two_outputs_equals_two_calls():
    torch.manual_seed(0)
    ps = PerceptualStyle(_Pyramid())
    out = torch.rand(2, 3, 8, 8, requires_grad=True)
    comp = (out * 0.5 + 0.2).clamp(0, 1)
    gt = torch.rand(2, 3, 8, 8)
    p1, s1 = ps(out, gt)
    p2, s2 = ps(comp, gt)
    perc, style = ps((out, comp), gt)
    assert torch.equal(perc, p1 + p2) and torch.equal(style, s1 + s2)
    for before, after in zip(_grads(p1 + p2 + s1 + s2, [out]), _grads(perc + style, [out])):
        torch.testing.assert_close(after, before, rtol=0, atol=0)


def test_id_gan_identity_loss_runs_facenet_once_a_face_with_the_same_loss_and_gradient():
    torch.manual_seed(0)
    facenet = FaceNet(InceptionResNetV1())
    recognizer = id_gan.Recognizer(facenet, _Features(facenet), embedding_scale=3.0)
    cfg = id_gan.IDGANConfig(image_size=16, width=4, critic_width=4)
    net = id_gan.IDGAN(cfg)
    occluded, clean = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    mask = torch.zeros(2, 1, 16, 16)
    mask[..., 4:10, 4:10] = 1
    batch = id_gan.Triplets(occluded, clean, mask, torch.randn(2, 512))
    inpainted = net(occluded, mask)[1]
    calls = []
    handle = facenet.net.Conv2d_1a_3x3.register_forward_hook(lambda *_: calls.append(1))
    after = id_gan.recognition_loss(net, recognizer, batch, inpainted)
    handle.remove()
    assert len(calls) == 2  # one trunk pass for X, one for Y (it was four)
    with torch.no_grad():  # the formula as it was: low and high of each face from separate passes
        low_y, high_y = recognizer.low(clean), recognizer.high(clean)
    before = id_gan.identity_diversity_loss(recognizer.low(inpainted), low_y, recognizer.high(inpainted), high_y,
                                            batch.centre, cfg.alpha_l, cfg.alpha_h, cfg.beta)
    torch.testing.assert_close(after, before, rtol=0, atol=0)  # bit for bit
    params = list(net.inpainter.parameters())
    for g_after, g_before in zip(_grads(after, params), _grads(before, params)):
        torch.testing.assert_close(g_after, g_before, rtol=1e-5, atol=1e-9)  # summed in another order


def _deepfill_setup():
    cfg = deepfill.DeepFillConfig.for_profile("quick")
    cfg = type(cfg)(**{**cfg.__dict__, "image_size": 16, "batch": 2, "d_steps": 2})
    torch.manual_seed(0)
    gen = deepfill.DeepFill(cfg.width)
    critic = deepfill.GlobalLocalCritic(cfg.image_size, cfg.image_size // 2, width=cfg.critic_width)
    return cfg, gen, critic


def _batch(i: int):
    g = torch.Generator().manual_seed(100 + i)
    clean = torch.rand(2, 3, 16, 16, generator=g)
    mask = torch.zeros(2, 1, 16, 16)
    mask[..., 3 + i % 3:11, 4:12] = 1
    return clean * (1 - mask), clean, mask


def test_deepfill_step_reuses_the_last_critic_batch_forward_of_g_with_the_same_result():
    cfg, gen, critic = _deepfill_setup()
    gen_ref, critic_ref = copy.deepcopy(gen), copy.deepcopy(critic)

    def adam(m):
        return deepfill.adam(m.parameters(), cfg.lr)

    opt_g, opt_d, ref_g, ref_d = adam(gen), adam(critic), adam(gen_ref), adam(critic_ref)
    calls = []
    gen.register_forward_hook(lambda *_: calls.append(1))
    step = deepfill.make_step(gen, critic, GANSteps(critic, opt_d, opt_g), cfg, _batch)
    torch.manual_seed(1)  # the gradient penalty draws its interpolation weights
    after = step(0)
    assert len(calls) == cfg.d_steps  # was d_steps + 1

    steps = GANSteps(critic_ref, ref_d, ref_g)  # the step as it was: G's forward again inside its loss
    torch.manual_seed(1)
    for k in range(cfg.d_steps):
        occluded, clean, mask = _batch(k)
        with torch.no_grad():
            x2 = gen_ref(occluded * 2 - 1, mask)[1]
        real = clean * 2 - 1
        fake = x2 * mask + real * (1 - mask)
        d = steps.d_step(lambda: deepfill.critic_loss(critic_ref, real, fake, mask, deepfill.hole_boxes(mask),
                                                      cfg.gp))
    g = steps.g_step(lambda: deepfill.generator_loss(gen_ref, critic_ref, occluded, clean, mask, cfg)[0])
    assert after["d"] == d and after["g"] == g
    for a, b in zip(list(gen.parameters()) + list(critic.parameters()),
                    list(gen_ref.parameters()) + list(critic_ref.parameters())):
        torch.testing.assert_close(a, b, rtol=0, atol=0)

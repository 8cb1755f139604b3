"""`full` cannot break silently: every model at its ``full`` size (each paper's ``for_profile("full")`` and the
baselines' ``PER_PROFILE["full"]``), one training step through its own training function and one evaluation
batch through the call the notebooks make, on the CPU with a batch of 2, so the first GPU run does not die on a
shape or memory-layout error.

Only batch and schedule lengths are shortened (``dataclasses.replace``), never a width, a depth or an image
size; the faces are eight real ORL faces aligned at the full sizes (LFW at 128 px would be aligned for minutes
first). Checkpoints of these one-step runs go to a temporary cache (aligned faces and converted pretrained
weights are shared with the real one). RLA and IP-RLA (373 M parameters at 2,048 LSTM units: about 35 s a
forward and backward on one CPU thread, and a 1.5 GB checkpoint per stage) run their losses forward and
backward once instead of their four checkpointed stages (on one thread, as everything here: a second thread
made it slower on the shared 2-core machine).
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest
import torch

pytestmark = pytest.mark.slow

FULL = "full"
IMAGE = 128      # profiles.PROFILES["full"].image_size
RECOG = (112, 96)


@pytest.fixture(scope="module", autouse=True)
def full_cache(tmp_path_factory, data_root):
    """A temporary cache for the one-step checkpoints; aligned faces and pretrained weights linked from the real
    one (which is created if it does not exist yet)."""
    from occface.paths import cache_dir, cache_root

    real = cache_root()
    tmp = tmp_path_factory.mktemp("full-cache")
    for shared in ("faces", "pretrained", "landmarks68"):
        (tmp / shared).symlink_to(cache_dir(shared), target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OCCFACE_CACHE", str(tmp))
        yield tmp
    assert cache_root() == real
    shutil.rmtree(tmp / "checkpoints", ignore_errors=True)  # one-step full-size weights: hundreds of MB


@pytest.fixture(scope="module")
def faces(data_root):
    """Eight ORL faces at 128 x 128: four people, two photos each (ID-GAN's centres and triplets need two)."""
    from occface.faces.data import load_faces

    f = load_faces("orl", IMAGE, "all")
    idx = torch.tensor([0, 1, 10, 11, 20, 21, 30, 31])
    return dataclasses.replace(f, images=f.images[idx], landmarks=f.landmarks[idx],
                               identity=torch.arange(4).repeat_interleave(2), names=[f.names[i] for i in (0, 1, 2, 3)],
                               paths=[f.paths[i] for i in idx.tolist()])


@pytest.fixture(scope="module")
def pairs(faces):
    """Occluded / clean training pairs of those faces (the nine kinds on their landmarks)."""
    from occface.faces.pairs import TrainingPairs, occlude_mixed

    occ = occlude_mixed(faces.images, seed=0, placement="semantic", landmarks=faces.landmarks)
    return TrainingPairs(occluded=occ.images, clean=faces.images, identity=faces.identity, mask=occ.mask,
                         kinds=occ.kinds)


@pytest.fixture(scope="module")
def batch(pairs):
    """The evaluation batch: two occluded faces and their masks."""
    return pairs.occluded[:2], pairs.mask[:2]


def check_restored(out: torch.Tensor, like: torch.Tensor) -> None:
    assert out.shape == like.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def check_history(history: dict, *names: str) -> None:
    """Each named loss was logged once per step and is finite."""
    for name in names:
        assert name in history and len(history[name]) >= 1, f"no {name!r} loss in {sorted(history)}"
        assert all(torch.isfinite(torch.tensor(history[name])))


# ---------------------------------------------------------------------------------------------- the papers
def test_rla_and_ip_rla_at_full_size_forward_backward_and_restore(pairs, batch):
    """RLA (Eq. 14) and IP-RLA (Eq. 19 = L_mse + L_sup + L_adv, with its D and the FaceNet supervisor) at the
    paper's 2 x 2 grid of 64 x 64 patches and 2,048 units, one backward on a batch of 2; then ``restore``."""
    from occface.nn.adversarial import GANLoss
    from occface.nn.discriminators import DCGANDiscriminator
    from occface.papers.rla.model import RLA, identity_loss, mse_loss, to_grey
    from occface.papers.rla.train import IdentityClassifier, RLAExperimentConfig, supervisor_network

    cfg = RLAExperimentConfig.for_profile(FULL)
    assert (cfg.model.image_size, cfg.model.hidden, cfg.model.patch) == (IMAGE, 2048, 64)
    torch.manual_seed(0)
    model = RLA(cfg.model)
    occ, clean = to_grey(pairs.occluded[:2]), to_grey(pairs.clean[:2])
    out = model(occ)
    assert out.recovered.shape == out.scores.shape == (2, 1, IMAGE, IMAGE)
    assert len(out.reconstruction_steps) == cfg.model.steps
    disc = DCGANDiscriminator(cfg.model.image_size, channels=1, width=max(8, cfg.model.hidden // 16))
    classifier = IdentityClassifier(supervisor_network(cfg), 4, 512)
    gan = GANLoss("bce")
    loss = (mse_loss(out, occ, clean) + identity_loss(classifier(out.recovered), pairs.identity[:2])
            + gan.g_loss(disc(out.recovered)))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    gan.d_loss(disc(clean), disc(out.recovered.detach())).backward()
    occluded, _ = batch
    check_restored(model.restore(occluded), occluded)


def test_fsg_gan_at_full_size_trains_a_step_and_restores(pairs, batch):
    """V (Eq. 4) one step, then G (Eq. 8, with FaceNet's L_ip) and the multi-receptive-field D (Eq. 11)."""
    from occface.papers.fsg_gan.train import FSGConfig, train_fsg_gan

    cfg = FSGConfig.for_profile(FULL, batch=2, vae_batch=2, vae_steps=1, gan_steps=1)
    assert (cfg.image_size, cfg.width, cfg.z_dim) == (IMAGE, 64, 512)
    trained = train_fsg_gan(cfg, data=pairs)
    check_history(trained.history["vae"], "rec", "kl")
    check_history(trained.history["gan"], "g", "d")
    occluded, _ = batch
    check_restored(trained.model.restore(occluded), occluded)


def test_oa_gan_at_full_size_trains_paired_and_natural_batches_and_restores(faces, batch):
    """A paired batch (Eq. 8) then a natural one (Eq. 9), each a WGAN-GP critic step and a generator step, with
    the attribute head and FaceNet's perceptual / style features; then ``restore`` and ``predict_mask``."""
    from occface.papers.oa_gan.natural import OAGANData
    from occface.papers.oa_gan.train import OAGANConfig, train_oa_gan

    cfg = OAGANConfig.for_profile(FULL)
    assert (cfg.net.image_size, cfg.net.width, cfg.net.res_blocks, cfg.net.attributes) == (IMAGE, 64, 6, 10)
    cfg = dataclasses.replace(cfg, batch=2, steps=2, g_every=1, schedule="official", official_every=2)
    n = len(faces)
    data = OAGANData(faces.images, faces.landmarks, torch.rand(n, 10).round(), torch.ones(n),
                     natural=torch.arange(0, n, 2), clean=torch.arange(1, n, 2), paired=torch.arange(1, n, 2),
                     source="lfw-attributes", note="smoke test", identity=faces.identity)
    trained = train_oa_gan(cfg, data=data)
    check_history(trained.history, "g_total_paired", "g_total_natural")
    occluded, _ = batch
    check_restored(trained.model.restore(occluded), occluded)
    assert trained.model.predict_mask(occluded).shape == (2, 1, IMAGE, IMAGE)


def test_from_at_full_size_trains_its_baseline_and_the_fine_tuned_model_and_embeds(data_root):
    """LResNet50E-IR at 112 x 96 with CosFace (the Baseline), then FROM (K = 5, 3-D masks, 226 patterns) fine-tuned
    from it on occluded faces: one SGD step each through ``FROMModels``; then ``embed`` and ``predict_patterns``."""
    from occface.faces.data import load_faces
    from occface.papers.from_.train import FROMModels

    models = FROMModels(FULL)
    assert models.config.input_size == RECOG and models.config.blocks == (3, 4, 14, 3)
    models.recipe = dataclasses.replace(models.recipe, batch=2, steps=1, finetune_steps=1)
    f = load_faces("orl", RECOG, "all")
    models.__dict__["train_faces"] = dataclasses.replace(
        f, images=f.images[:8], landmarks=f.landmarks[:8], identity=torch.arange(4).repeat_interleave(2),
        names=f.names[:4], paths=f.paths[:8])
    net = models.model("FROM")
    check_history(models.history["Baseline"], "loss")
    check_history(models.history["FROM"], "loss", "pred")
    emb = net.embed(f.images[:2])
    assert emb.shape == (2, 512) and torch.isfinite(emb).all()
    assert net.predict_patterns(f.images[:2]).max() < models.config.patterns == 226


@pytest.mark.parametrize("identity", ["diversity", "triplet"])
def test_id_gan_at_full_size_trains_a_step_and_inpaints(faces, batch, identity):
    """ID-GAN's inpainter and global / local critics at 128 px with its 48 x 48 block, the full-width face
    parser S and FaceNet as R (identity diversity, Eq. 6; and Our-tri, whose batches carry triplets)."""
    from occface.nn.parsing import FaceParser, ParserConfig
    from occface.papers.id_gan.train import IDGANTrainConfig, train_id_gan

    cfg = IDGANTrainConfig.for_profile(FULL, identity=identity)
    assert (cfg.model.image_size, cfg.model.hole) == (IMAGE, 48)
    cfg = dataclasses.replace(cfg, batch=2, steps=1)
    parser = FaceParser(ParserConfig.for_profile(FULL).width).eval().requires_grad_(False)
    trained = train_id_gan(cfg, parser=parser, faces=faces)
    check_history(trained.history, "total", "D")
    occluded, mask = batch
    check_restored(trained.model.inpaint(occluded, mask), occluded)


def test_face_parser_at_full_size_trains_a_step_and_parses(faces):
    """S (ID-GAN's structure loss, GFC's parsing loss) at its full width: one weighted cross-entropy step."""
    from occface.nn.parsing import CLASSES, FaceParser, ParserConfig, parse, parser_step

    cfg = ParserConfig.for_profile(FULL)
    parser = FaceParser(cfg.width)
    labels = torch.randint(len(CLASSES), (2, IMAGE, IMAGE))
    loss = parser_step(parser, torch.optim.Adam(parser.parameters(), lr=cfg.lr), faces.images[:2], labels,
                       torch.ones(len(CLASSES)))
    assert loss == loss
    assert parse(parser.eval(), faces.images[:2]).shape == (2, IMAGE, IMAGE)


@pytest.mark.parametrize("arch", ["lresnet", "lightcnn"])
def test_recognizers_at_full_size_step_and_embed(faces, arch):
    """02_evaluation's trained recognizers (LResNet-IR, LightCNN-9) at 112 x 96 with a 512-D CosFace head: one
    forward and backward (``train_recognizer`` reads all LFW training faces itself), then ``embed``."""
    from occface.eval.recognizers import RecognizerConfig, resize_aligned
    from occface.nn.margins import LOSSES, MarginSoftmax

    cfg = RecognizerConfig.for_arch(arch, FULL)
    model, head = cfg.build(), MarginSoftmax(cfg.embedding, 4, **LOSSES[cfg.loss])
    x = resize_aligned(faces.images[:2], RECOG)
    loss = torch.nn.functional.cross_entropy(head(model(x), faces.identity[:2]), faces.identity[:2])
    loss.backward()
    assert torch.isfinite(loss)
    assert model.eval().embed(x).shape == (2, cfg.embedding)


# ---------------------------------------------------------------------------------------------- the baselines
def _inpainter(train, cfg, data, **kw):
    from occface.baselines.deepfill import composite

    trained = train(cfg, data=data, **kw)
    return trained, composite(trained.model.predict, cfg.image_size)


def test_deepfill_at_full_size(pairs, batch):
    from occface.baselines.deepfill import DeepFillConfig, train_deepfill

    cfg = dataclasses.replace(DeepFillConfig.for_profile(FULL), batch=2, steps=1)
    assert (cfg.image_size, cfg.width, cfg.critic_width) == (IMAGE, 32, 64)
    trained, inpaint = _inpainter(train_deepfill, cfg, pairs)
    assert trained.history
    occluded, mask = batch
    check_restored(inpaint(occluded, mask), occluded)


def test_pconv_at_full_size_trains_a_step_of_each_phase(pairs, batch):
    """A training step and a fine-tuning step (encoder BN frozen), with FaceNet's perceptual and style terms."""
    from occface.baselines.pconv import PConvConfig, train_pconv

    cfg = dataclasses.replace(PConvConfig.for_profile(FULL), batch=2, steps=2, finetune_steps=1)
    assert (cfg.image_size, cfg.width) == (IMAGE, 64) and cfg.perceptual > 0
    trained, inpaint = _inpainter(train_pconv, cfg, pairs)
    check_history(trained.history, "loss")
    occluded, mask = batch
    check_restored(inpaint(occluded, mask), occluded)


def test_csa_at_full_size(pairs, batch):
    from occface.baselines.csa import CSAConfig, train_csa

    cfg = dataclasses.replace(CSAConfig.for_profile(FULL), batch=2, steps=1)
    assert (cfg.image_size, cfg.width) == (IMAGE, 64)
    trained, inpaint = _inpainter(train_csa, cfg, pairs)
    assert trained.history
    occluded, mask = batch
    check_restored(inpaint(occluded, mask), occluded)


def test_gfc_at_full_size_trains_a_step_of_each_stage(pairs, batch):
    """Stage 1 (L_r), 2 (+ local D) and 3 (+ global D and the parsing loss through a full-width parser)."""
    from occface.baselines.gfc import GFCConfig, train_gfc
    from occface.nn.parsing import FaceParser, ParserConfig

    cfg = dataclasses.replace(GFCConfig.for_profile(FULL), batch=2, steps=3, rec_steps=1, local_steps=1)
    assert (cfg.image_size, cfg.width, cfg.fc) == (IMAGE, 32, 4096)
    parser = FaceParser(ParserConfig.for_profile(FULL).width)
    trained = train_gfc(cfg, parser=parser, data=pairs)
    check_history(trained.history, "rec", "adv_local", "adv_global", "parsing")
    occluded, mask = batch
    check_restored(trained.model.predict(occluded, mask, cfg.seed), occluded)


def test_coopnets_at_full_size(faces, batch):
    from occface.baselines.coopnets import CoopNetsConfig, train_coopnets

    cfg = dataclasses.replace(CoopNetsConfig.for_profile(FULL), batch=2, steps=1)
    assert (cfg.image_size, cfg.gen_width, cfg.des_width) == (IMAGE, 64, 64)
    trained = train_coopnets(cfg, clean=faces.images)
    assert trained.history
    occluded, mask = batch
    check_restored(trained.model.predict(occluded, mask), occluded)


def test_cyclegan_at_full_size(pairs, batch):
    from occface.baselines.cyclegan import CycleGANConfig, UnpairedFaces, train_cyclegan

    cfg = dataclasses.replace(CycleGANConfig.for_profile(FULL), steps=1)
    assert (cfg.image_size, cfg.width, cfg.blocks, cfg.batch) == (IMAGE, 64, 6, 1)  # official batch 1
    cfg = dataclasses.replace(cfg, batch=2)
    trained = train_cyclegan(cfg, data=UnpairedFaces(occluded=pairs.occluded[:4], clean=pairs.clean[4:]))
    assert trained.history
    occluded, _ = batch
    check_restored(trained.model.restore(occluded), occluded)

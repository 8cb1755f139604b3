"""# Robust LSTM-Autoencoders (RLA) and identity-preserving RLA (IP-RLA)

Zhao, Feng, Zhao, Yang, Yan, *Robust LSTM-Autoencoders for Face De-Occlusion in the Wild*, TIP 2018
(``papers/1-rla-robust-lstm-autoencoders.md``). This file reads top to bottom like Sec. III of the paper:

1. the LSTM cell of Eq. 1;
2. the *multi-scale spatial LSTM encoder* (Eq. 4): a 2-D LSTM whose memory receives both the left and the
   upper neighbour, reading MxN patches left to right, top to bottom, each step also seeing the whole face
   at low resolution;
3. the *dual-channel LSTM decoder*: a reconstruction channel (Eqs. 5-8) and an occlusion-detection channel
   fed by the reconstruction's hidden state (Eqs. 9-12);
4. the occlusion-aware blend (Eq. 13) and the losses of Eq. 14 (RLA) and Eqs. 17-19 (IP-RLA);
5. the adversarial discriminator of Eq. 18 (shared: ``occface.nn.discriminators``).

Faces are grey, as in the paper (Sec. IV-A: "128 x 128 gray level"); :func:`to_grey` converts the
project's RGB tensors. The training schedule (Sec. III-B.3 and III-C) lives in
``occface.papers.rla.train``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ...profiles import ProfileConfig


# ## Configuration
@dataclass
class RLAConfig(ProfileConfig):
    """Sizes of the RLA network. ``full`` is the paper's (Sec. IV-B); smaller profiles scale them down."""
    image_size: int = 128   # grey faces, 128x128 in the paper
    grid: int = 2           # M = N = 2: four non-overlapping 64x64 patches
    hidden: int = 2048      # units per LSTM layer
    layers: int = 2         # "a two-layer LSTM network for the encoder and the decoder respectively"
    steps: int = 8          # decoder steps T

    @property
    def patch(self) -> int:
        return self.image_size // self.grid

    # LSTM width per profile: the paper's 2,048 units at full, narrower on the CPU profiles
    SHARED = {"image_size": "image_size"}
    PER_PROFILE = {"quick": dict(hidden=128), "default": dict(hidden=256), "full": dict(hidden=2048)}


def to_grey(images: torch.Tensor) -> torch.Tensor:
    """(N,3,H,W) RGB in [0,1] -> (N,1,H,W) luma (ITU-R 601 weights); grey input passes through."""
    if images.shape[1] == 1:
        return images
    weights = images.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (images * weights).sum(1, keepdim=True)


# ## 1. The LSTM cell (Eq. 1)
class LSTMCell(nn.Module):
    """Eq. 1: gates i, f, o and candidate memory from the input x_t (optional) and h_{t-1}.

    ``inputs=0`` gives the input-free cell of Eq. 5, whose gates see only the previous hidden state.
    """

    def __init__(self, inputs: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.x = nn.Linear(inputs, 4 * hidden) if inputs else None
        self.h = nn.Linear(hidden, 4 * hidden, bias=self.x is None)
        with torch.no_grad():  # forget-gate bias 1: remember by default early in training
            bias = (self.x or self.h).bias
            bias[hidden:2 * hidden].fill_(1.0)

    def forward(self, x: torch.Tensor | None, state: tuple[torch.Tensor, torch.Tensor]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        gates = self.h(h) if x is None else self.x(x) + self.h(h)
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class LSTMStack(nn.Module):
    """Stacked :class:`LSTMCell` layers; layer l+1 reads layer l's hidden state at the same step."""

    def __init__(self, inputs: int, hidden: int, layers: int):
        super().__init__()
        self.cells = nn.ModuleList(LSTMCell(inputs if k == 0 else hidden, hidden) for k in range(layers))

    def forward(self, x: torch.Tensor | None, states: list[tuple[torch.Tensor, torch.Tensor]]
                ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        new = []
        for cell, state in zip(self.cells, states):
            h, c = cell(x, state)
            new.append((h, c))
            x = h
        return new


# ## 2. Multi-scale spatial LSTM encoder (Eq. 4)
class SpatialLSTMCell(nn.Module):
    """Eq. 4: one 2-D LSTM cell at grid location (i, j).

    Five gates come from an affine map of the patch x_ij, the coarse whole face x_ij^coarse and the two
    neighbours' hidden states h_{i-1,j} (upper) and h_{i,j-1} (left); the memory sums the two neighbours'
    memories through their own forget gates:
    c_ij = f_{i-1,j} * c_{i-1,j} + f_{i,j-1} * c_{i,j-1} + i_ij * c~_ij,   h_ij = o_ij * tanh(c_ij).
    (The paper prints c_{i-1,j} twice in Eq. 4; the text, Theis & Bethge [20] and the official code use the
    left and the upper memory, as here.)
    """

    def __init__(self, inputs: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.x = nn.Linear(inputs, 5 * hidden)
        self.up = nn.Linear(hidden, 5 * hidden, bias=False)    # W for h_{i-1,j}
        self.left = nn.Linear(hidden, 5 * hidden, bias=False)  # W for h_{i,j-1}
        with torch.no_grad():
            self.x.bias[hidden:3 * hidden].fill_(0.5)  # two forget gates share the "remember" prior

    def forward(self, x: torch.Tensor, upper: tuple[torch.Tensor, torch.Tensor],
                left: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        (h_up, c_up), (h_left, c_left) = upper, left
        gates = self.x(x) + self.up(h_up) + self.left(h_left)
        i, f_up, f_left, g, o = gates.chunk(5, dim=1)
        c = (torch.sigmoid(f_up) * c_up + torch.sigmoid(f_left) * c_left
             + torch.sigmoid(i) * torch.tanh(g))
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


@dataclass
class EncoderOutput:
    """The encoder's last states h_{M,N}, c_{M,N} per layer, and the top layer's hidden grid (for tests)."""
    states: list[tuple[torch.Tensor, torch.Tensor]]
    grid: list[list[torch.Tensor]] = field(default_factory=list)

    @property
    def h_enc(self) -> torch.Tensor:
        return self.states[-1][0]


class MultiScaleSpatialEncoder(nn.Module):
    """Reads the MxN patches x_ij left to right, top to bottom (Sec. III-B.1).

    Each step's input is the patch concatenated with x^coarse, the whole face resized to one patch's size
    ("the whole image is resized to the same size as a different scale input", Sec. IV-B). The official
    code takes a 2x-patch window around the patch instead; for the paper's 2x2 grid that window is the whole
    face, so both agree; we follow the paper. Grid borders see zero neighbour states.
    """

    def __init__(self, config: RLAConfig):
        super().__init__()
        self.config = config
        inputs = 2 * config.patch ** 2
        self.cells = nn.ModuleList(SpatialLSTMCell(inputs if k == 0 else config.hidden, config.hidden)
                                   for k in range(config.layers))

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(B,1,H,W) -> (B, M, N, p*p): the non-overlapping patch grid, row-major."""
        g, p = self.config.grid, self.config.patch
        b = x.shape[0]
        return x.reshape(b, g, p, g, p).permute(0, 1, 3, 2, 4).reshape(b, g, g, p * p)

    def forward(self, x: torch.Tensor) -> EncoderOutput:
        g, p, hid = self.config.grid, self.config.patch, self.config.hidden
        patches = self.patches(x)
        coarse = F.interpolate(x, size=(p, p), mode="area").flatten(1)  # x^coarse: whole face, low res
        zero = x.new_zeros(x.shape[0], hid)
        # states[layer][i][j] = (h, c); None outside the grid means zeros
        states = [[[None] * g for _ in range(g)] for _ in self.cells]
        for i in range(g):          # top to bottom
            for j in range(g):      # left to right
                inp = torch.cat([patches[:, i, j], coarse], dim=1)
                for k, cell in enumerate(self.cells):
                    upper = states[k][i - 1][j] if i > 0 else (zero, zero)
                    left = states[k][i][j - 1] if j > 0 else (zero, zero)
                    states[k][i][j] = cell(inp, upper, left)
                    inp = states[k][i][j][0]
        last = [layer[g - 1][g - 1] for layer in states]  # h_{M,N}, c_{M,N}
        grid = [[states[-1][i][j][0] for j in range(g)] for i in range(g)]
        return EncoderOutput(states=last, grid=grid)


# ## 3. Dual-channel LSTM decoder (Eqs. 5-12)
class ReconstructionDecoder(nn.Module):
    """Eqs. 5-8: an input-free LSTM started from the encoder's states (h_0^rec = h^enc, c_0^rec = c^enc)
    that refines a canvas, X_t = X_{t-1} + W^rec h_t^rec + b^rec; the face is X^rec = sigma(X_T)."""

    def __init__(self, config: RLAConfig):
        super().__init__()
        self.lstm = LSTMStack(0, config.hidden, config.layers)
        self.write = nn.Linear(config.hidden, config.image_size ** 2)  # W^rec, b^rec of Eq. 8

    def forward(self, encoded: EncoderOutput, steps: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Returns the canvases X_1..X_T (pre-sigmoid, flat) and the hidden states h_1^rec..h_T^rec."""
        states = encoded.states
        canvas = 0.0
        canvases, hiddens = [], []
        for _ in range(steps):
            states = self.lstm(None, states)          # Eqs. 5-7
            h = states[-1][0]
            canvas = canvas + self.write(h)           # Eq. 8
            canvases.append(canvas)
            hiddens.append(h)
        return canvases, hiddens


class OcclusionDetector(nn.Module):
    """Eqs. 9-12: an LSTM that at step t reads h_t^rec of the reconstruction channel (the cross-network
    connection) and refines occlusion scores, S_t = S_{t-1} + W^det h_t^det + b^det; S^det = sigma(S_T).

    The paper does not say how the detector starts; the official code starts it, like the reconstruction
    channel, from the encoder's last states, which we follow. The paper feeds h_t^rec (the hidden state that
    writes the canvas, our top layer); the official code feeds the first layer's, we follow the paper.
    """

    def __init__(self, config: RLAConfig):
        super().__init__()
        self.lstm = LSTMStack(config.hidden, config.hidden, config.layers)
        self.write = nn.Linear(config.hidden, config.image_size ** 2)  # W^det, b^det of Eq. 12
        with torch.no_grad():  # start by trusting the input: sigma(S) small, so Eq. 13 returns X^occ
            self.write.bias.fill_(-2.0 / 8)

    def forward(self, encoded: EncoderOutput, rec_hiddens: list[torch.Tensor]) -> list[torch.Tensor]:
        states = encoded.states
        scores = 0.0
        out = []
        for h_rec in rec_hiddens:
            states = self.lstm(h_rec, states)         # Eqs. 9-11
            scores = scores + self.write(states[-1][0])  # Eq. 12
            out.append(scores)
        return out


# ## 4. Occlusion-aware blend (Eq. 13)
def blend(reconstruction: torch.Tensor, occluded: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """Eq. 13: X~ = X^rec * S^det + X^occ * (1 - S^det). All-zero scores return X^occ exactly."""
    return reconstruction * scores + occluded * (1 - scores)


@dataclass
class RLAOutput:
    """Everything one forward pass produces; ``*_steps`` are the per-step images for Fig. 5."""
    recovered: torch.Tensor          # X~ of Eq. 13, (B,1,H,W)
    reconstruction: torch.Tensor     # X^rec = sigma(X_T)
    scores: torch.Tensor             # S^det = sigma(S_T)
    reconstruction_steps: list[torch.Tensor]
    score_steps: list[torch.Tensor]
    occluded: torch.Tensor

    @property
    def recovered_steps(self) -> list[torch.Tensor]:
        """X~_t = blend(sigma(X_t), X^occ, sigma(S_t)) for t = 1..T (Fig. 5, first row)."""
        return [blend(r, self.occluded, s) for r, s in zip(self.reconstruction_steps, self.score_steps)]


class RLA(nn.Module):
    """Robust LSTM-Autoencoder, Eq. 3: f(X^occ) = f_dec(f_enc(X^occ)), with the blend of Eq. 13.

    ``forward`` takes grey faces (B,1,H,W) in [0,1]; ``restore`` takes the project's RGB batches and
    returns RGB (grey repeated) for the verification protocol.
    """

    def __init__(self, config: RLAConfig):
        super().__init__()
        self.config = config
        self.encoder = MultiScaleSpatialEncoder(config)
        self.reconstructor = ReconstructionDecoder(config)
        self.detector = OcclusionDetector(config)

    def _image(self, flat: torch.Tensor) -> torch.Tensor:
        s = self.config.image_size
        return torch.sigmoid(flat).view(-1, 1, s, s)

    def forward(self, occluded: torch.Tensor, steps: int | None = None, detect: bool = True) -> RLAOutput:
        steps = steps or self.config.steps
        encoded = self.encoder(occluded)
        canvases, hiddens = self.reconstructor(encoded, steps)
        rec_steps = [self._image(c) for c in canvases]
        if detect:
            score_steps = [self._image(s) for s in self.detector(encoded, hiddens)]
        else:  # stage 1 of the schedule: no detector, the blend degenerates to X^rec
            score_steps = [torch.ones_like(r) for r in rec_steps]
        out = RLAOutput(recovered=blend(rec_steps[-1], occluded, score_steps[-1]),
                        reconstruction=rec_steps[-1], scores=score_steps[-1],
                        reconstruction_steps=rec_steps, score_steps=score_steps, occluded=occluded)
        return out

    @torch.no_grad()
    @torch.no_grad()
    def restore(self, images: torch.Tensor, channel: str = "recovered", batch: int = 256) -> torch.Tensor:
        """RGB or grey (N,C,H,W) -> de-occluded (N,3,H,W) grey-as-RGB. ``channel="reconstruction"`` gives
        the "Face Rec" ablation (reconstruction channel alone, no blend)."""
        was = self.training
        self.eval()
        device = next(self.parameters()).device
        outs = []
        for chunk in images.split(batch):
            x = to_grey(chunk.float()).to(device)
            if x.shape[-1] != self.config.image_size:
                x = F.interpolate(x, size=self.config.image_size, mode="bilinear", align_corners=False)
            y = getattr(self(x), channel)
            if y.shape[-1] != chunk.shape[-1]:
                y = F.interpolate(y, size=chunk.shape[-2:], mode="bilinear", align_corners=False)
            outs.append(y.clamp(0, 1).repeat(1, 3, 1, 1).cpu())
        self.train(was)
        return torch.cat(outs)


# ## 5. Losses
def reconstruction_loss(reconstruction: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Stage-1 pre-training loss, 1/2K sum_i ||X_i^rec - X_i||_F^2 (Sec. III-B.3)."""
    return 0.5 * (reconstruction - clean).pow(2).flatten(1).sum(1).mean()


def mse_loss(out: RLAOutput, occluded: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Eq. 14: L_mse = 1/2K sum_i ||X_i^rec * S_i + X_i^occ * (1 - S_i) - X_i||_F^2.

    Autograd gives the gradients of Eqs. 15-16 (dL/dX^rec is gated by S^det, so the reconstruction
    channel learns mostly where the detector sees occlusion)."""
    return 0.5 * (out.recovered - clean).pow(2).flatten(1).sum(1).mean()


def identity_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eq. 17: L_sup = 1/K sum_i -log P(y_i | X~_i), from a frozen identity classifier's logits."""
    return F.cross_entropy(logits, labels)


# ## 6. Adversarial discriminator (Eq. 18)
# D and its loss are shared by every GAN in the project: ``occface.nn.discriminators.DCGANDiscriminator``
# (a 4-block strided CNN in place of the paper's GoogLeNet) and ``occface.nn.adversarial.GANLoss("bce")``.

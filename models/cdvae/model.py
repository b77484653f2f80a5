"""A compact CDVAE (Xie, Fu, Ganea, Barzilay, Jaakkola, "Crystal Diffusion
Variational Autoencoder for Periodic Material Generation", ICLR 2022).

What is the same as the paper:
* an encoder of the crystal graph to a latent z (VAE, KL-regularised);
* heads from z for the number of atoms, the lattice (lengths scaled by
  N^(1/3), and angles, both standardised) and the composition; plus the
  paper's optional property head (here: the dataset's energy column);
* a periodic score network conditioned on z that, given noisy fractional
  coordinates and noisy atom types, predicts for every atom a Cartesian
  displacement (the coordinate score) and its type; trained by denoising
  over a geometric schedule of noise levels (coordinates 10 -> 0.01 Å, types
  5 -> 0.01, 50 levels); the same loss weights as the paper's configs;
* sampling by annealed Langevin dynamics (``sample.py``).

What is smaller or simpler, so that it trains on two CPU cores in hours:
* encoder and score network are the same plain invariant message-passing
  network (Gaussian radial basis with a cosine envelope, SiLU MLPs), not
  DimeNet++ / GemNet-dQ; the coordinate score is E(3)-equivariant by
  construction: a sum over edges of learned invariant scalars times the edge's
  unit vector. ``score_net="painn"`` gives the score network PaiNN's
  equivariant vector features as well (PaiNNScoreNet), which carry bond
  angles: the radial one could not learn carbon_24 (cdvae/README.md);
* the score network also sees log(sigma) (the paper's does not);
* during training the score network gets the true lattice (the paper's
  "teacher forcing"); at sampling time it gets the lattice predicted from z;
* the graph is every periodic image within the cutoff, with no cap on the
  number of neighbours.

What is added (optional, ``Config.volume_head``): a head for the log volume
per atom, to which the decoded cell is scaled (``scale_to_volume``). A
regression of six independent lattice numbers pulls uncertain angles
towards their mean, near 90 degrees, where a cell of given lengths is
largest: carbon_24's decoded cells came out 15 % too sparse that way
(heads_check.py), although z predicts the volume per atom well
(cdvae/README.md, "The volume head").

``score_step`` is a pure function of (per-atom z, types, log sigma, edges)
so that it exports to ONNX with the graph built outside the model: in the app
by the project's TypeScript neighbour list (``src/core/neighbors``), here by
``radius_graph_pbc``. Both give directed edges src -> dst with
vec = r_dst + image . L - r_src.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab: list[int]                       # atomic numbers the model knows
    max_atoms: int = 20                    # num-atoms head classes 0..max_atoms
    hidden: int = 64
    latent: int = 64
    rbf: int = 32
    cutoff: float = 5.0                    # Å
    enc_layers: int = 3
    dec_layers: int = 4
    msg_scale: float = 1 / 32              # 1 / typical neighbour count
    sigma_begin: float = 10.0              # Å, CDVAE's perov/carbon/mp configs
    sigma_end: float = 0.01
    type_sigma_begin: float = 5.0
    type_sigma_end: float = 0.01
    num_noise_levels: int = 50
    # "radial": ScoreNet below (invariant messages, score = sum of scalars x
    # unit vectors); "painn": the same plus equivariant vector features that
    # carry bond angles (PaiNNScoreNet).  Checkpoints from before this field
    # load as "radial".
    score_net: str = "radial"
    # PaiNN only: the largest |s| and per-channel |v| a block may output
    # (None: unbounded, as trained).  The block's update is quadratic in v,
    # so features that leave the training range grow doubly exponentially
    # (a carbon sample two atoms 0.73 Å apart at σ = 0.018 Å: |s| 289 ->
    # 1.5e7 -> 2.4e29 -> NaN over the four blocks, where training never
    # exceeds 18).  A bound above the training range changes nothing there
    # and keeps such a crystal's score finite; cdvae/README.md measures it.
    feature_bound: float | None = None
    # loss weights: CDVAE conf/model/vae.yaml
    cost_natom: float = 1.0
    cost_lattice: float = 10.0
    cost_composition: float = 1.0
    cost_coord: float = 10.0
    cost_type: float = 1.0
    cost_property: float = 1.0
    beta: float = 0.01
    # standardisation of lattice targets and property (set from the train split)
    lattice_mean: list[float] = field(default_factory=lambda: [0.0] * 6)
    lattice_std: list[float] = field(default_factory=lambda: [1.0] * 6)
    prop_mean: float = 0.0
    prop_std: float = 1.0
    # the volume-per-atom head (see the module docstring); its target is
    # log(Å³ per atom), standardised.  Checkpoints from before these fields
    # load without it.
    volume_head: bool = False
    log_volume_mean: float = 0.0
    log_volume_std: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def geometric(begin: float, end: float, n: int) -> torch.Tensor:
    return torch.exp(torch.linspace(math.log(begin), math.log(end), n))


def mlp(sizes: list[int], last_act: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2 or last_act:
            layers.append(nn.SiLU())
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------
# Geometry

def lattice_from_params(lengths: torch.Tensor, angles_deg: torch.Tensor) -> torch.Tensor:
    """(B,3),(B,3) -> (B,3,3) rows a,b,c; same convention as data.py."""
    a, b, c = lengths.unbind(-1)
    al, be, ga = torch.deg2rad(angles_deg).unbind(-1)
    zero = torch.zeros_like(a)
    cx = c * torch.cos(be)
    cy = c * (torch.cos(al) - torch.cos(be) * torch.cos(ga)) / torch.sin(ga)
    cz = torch.sqrt(torch.clamp(c * c - cx * cx - cy * cy, min=1e-8))
    return torch.stack([
        torch.stack([a, zero, zero], -1),
        torch.stack([b * torch.cos(ga), b * torch.sin(ga), zero], -1),
        torch.stack([cx, cy, cz], -1)], -2)


def unit_cell_volume(angles_deg: torch.Tensor) -> torch.Tensor:
    """Volume of a cell with unit lengths and these angles (B,3) -> (B,):
    sqrt(1 - cos²α - cos²β - cos²γ + 2 cosα cosβ cosγ), clamped above 0 so
    that angles no cell has give a tiny volume, not NaN.  Degrees to radians
    by a product, not ``torch.deg2rad``: heads.onnx holds this (the volume
    head) and opset 17 has no deg2rad."""
    ca, cb, cg = torch.cos(angles_deg * (math.pi / 180)).unbind(-1)
    return torch.sqrt(torch.clamp(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg, min=1e-6))


def scale_to_volume(lat: torch.Tensor, volume_per_atom: torch.Tensor) -> torch.Tensor:
    """Lattice head output (B,6: lengths / N^(1/3), angles) with the lengths
    scaled so that the cell has ``volume_per_atom`` (B,) Å³ per atom. With
    lengths divided by N^(1/3) the volume per atom is
    ℓ₁ℓ₂ℓ₃ · unit_cell_volume(angles), whatever N, so the heads.onnx contract
    (and the app's decoding) stays the same."""
    lengths, angles = lat[:, :3], lat[:, 3:]
    now = lengths.prod(-1) * unit_cell_volume(angles)
    return torch.cat([lengths * (volume_per_atom / now)[:, None] ** (1 / 3), angles], -1)


def frac_to_cart(frac, lattice, crystal):
    return torch.einsum("ni,nij->nj", frac, lattice[crystal])


def cart_to_frac(cart, lattice, crystal):
    inv = torch.linalg.inv(lattice)
    return torch.einsum("ni,nij->nj", cart, inv[crystal])


_OFFSETS27 = torch.tensor([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1)
                           for k in (-1, 0, 1)], dtype=torch.float32)


def min_image_diff(frac_to, frac_from, lattice, crystal):
    """Shortest Cartesian vector from frac_from to a periodic image of frac_to."""
    d = frac_to - frac_from
    d = d - torch.round(d)
    cand = d[:, None, :] + _OFFSETS27[None].to(d)               # (N,27,3)
    cart = torch.einsum("nki,nij->nkj", cand, lattice[crystal])
    best = cart.norm(dim=-1).argmin(dim=1)
    return cart[torch.arange(len(d)), best]


def radius_graph_pbc(frac, lattice, num_atoms, cutoff: float, max_image: int = 4):
    """Every periodic pair within ``cutoff`` (Å), both directions, self-images
    included, the same edges as ``src/core/neighbors`` would return.

    Returns src, dst (E,) and vec (E,3) = r_dst + n.L - r_src.
    """
    device = frac.device
    B = len(num_atoms)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long, device=device),
                     torch.cumsum(num_atoms, 0)])
    # how many images along each axis: cutoff / plane spacing
    inv = torch.linalg.inv(lattice)                               # columns = reciprocal/2pi
    spacing = 1.0 / inv.norm(dim=1)                               # (B,3)
    nimg = torch.clamp(torch.ceil(cutoff / spacing), max=max_image).long()
    r = nimg.max(dim=0).values.tolist()
    grid = torch.stack(torch.meshgrid(
        torch.arange(-r[0], r[0] + 1), torch.arange(-r[1], r[1] + 1),
        torch.arange(-r[2], r[2] + 1), indexing="ij"), -1).reshape(-1, 3).to(frac)
    # all ordered pairs inside each crystal
    pairs = num_atoms * num_atoms
    crystal_of_pair = torch.repeat_interleave(torch.arange(B, device=device), pairs)
    pair_ptr = torch.cat([torch.zeros(1, dtype=torch.long, device=device),
                          torch.cumsum(pairs, 0)])
    k = torch.arange(int(pairs.sum()), device=device) - pair_ptr[crystal_of_pair]
    n = num_atoms[crystal_of_pair]
    src = ptr[crystal_of_pair] + k // n
    dst = ptr[crystal_of_pair] + k % n
    df = frac[dst] - frac[src]                                    # (P,3)
    cand = df[:, None, :] + grid[None]                            # (P,K,3)
    vec = torch.einsum("pki,pij->pkj", cand, lattice[crystal_of_pair])
    dist = vec.norm(dim=-1)
    keep = (dist < cutoff) & (dist > 0)
    p_idx, k_idx = keep.nonzero(as_tuple=True)
    return src[p_idx], dst[p_idx], vec[p_idx, k_idx]


# --------------------------------------------------------------------------
# Network

def segment_sum(x: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    """Rows of x summed into n rows by index. scatter_add, not index_add:
    PyTorch 1.13 exports index_add as a plain ScatterElements that overwrites
    duplicates, and scatter_add as ScatterElements(reduction="add")."""
    return torch.zeros(n, x.shape[1], dtype=x.dtype).scatter_add(
        0, index[:, None].expand_as(x), x)


def rows_like(x: torch.Tensor, index: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """segment_sum into as many rows as ``like`` has: the signature export.py's
    RowSum (ONNX ScatterND) shares, so a forward can take either."""
    return segment_sum(x, index, like.shape[0])


class RadialBasis(nn.Module):
    def __init__(self, n: int, cutoff: float):
        super().__init__()
        self.cutoff = cutoff
        self.register_buffer("centers", torch.linspace(0.0, cutoff, n))
        self.width = cutoff / n

    def forward(self, dist):
        rbf = torch.exp(-((dist[:, None] - self.centers) / self.width) ** 2)
        env = 0.5 * (torch.cos(math.pi * torch.clamp(dist / self.cutoff, max=1.0)) + 1.0)
        return rbf, env


class Interaction(nn.Module):
    """h_i += U([h_i, scale * sum_j env(d_ij) M([h_i, h_j, rbf(d_ij)])])."""

    def __init__(self, hidden: int, rbf: int, scale: float):
        super().__init__()
        self.msg = mlp([2 * hidden + rbf, hidden, hidden], last_act=True)
        self.upd = mlp([2 * hidden, hidden, hidden])
        self.norm = nn.LayerNorm(hidden)
        self.scale = scale

    def forward(self, h, src, dst, rbf, env):
        m = self.msg(torch.cat([h[src], h[dst], rbf], -1)) * env[:, None]
        agg = segment_sum(m, src, h.shape[0]) * self.scale
        return h + self.upd(torch.cat([self.norm(h), agg], -1))


class GraphNet(nn.Module):
    def __init__(self, cfg: Config, in_dim: int, layers: int):
        super().__init__()
        self.basis = RadialBasis(cfg.rbf, cfg.cutoff)
        self.inp = mlp([in_dim, cfg.hidden, cfg.hidden])
        self.layers = nn.ModuleList(
            Interaction(cfg.hidden, cfg.rbf, cfg.msg_scale) for _ in range(layers))

    def forward(self, x, src, dst, vec):
        dist = vec.norm(dim=-1)
        rbf, env = self.basis(dist)
        h = self.inp(x)
        for layer in self.layers:
            h = layer(h, src, dst, rbf, env)
        return h, dist, rbf, env


class ScoreNet(nn.Module):
    """Per-atom coordinate score (equivariant) and type logits, given z."""

    def __init__(self, cfg: Config):
        super().__init__()
        V = len(cfg.vocab)
        self.embed = nn.Embedding(V, cfg.hidden)
        self.net = GraphNet(cfg, cfg.hidden + cfg.latent + 1, cfg.dec_layers)
        self.edge_out = mlp([2 * cfg.hidden + cfg.rbf, cfg.hidden, 1])
        self.type_out = mlp([cfg.hidden, cfg.hidden, V])

    def forward(self, z_atom, types, log_sigma, src, dst, vec):
        x = torch.cat([self.embed(types), z_atom, log_sigma[:, None]], -1)
        h, dist, rbf, env = self.net(x, src, dst, vec)
        s = self.edge_out(torch.cat([h[src], h[dst], rbf], -1)) * env[:, None]
        unit = vec / torch.clamp(dist, min=1e-6)[:, None]
        score = segment_sum(s * unit, src, h.shape[0])
        return score, self.type_out(h)


class PaiNNLayer(nn.Module):
    """One message and update block of PaiNN (Schütt, Unke, Gastegger,
    "Equivariant message passing for the prediction of tensorial properties
    and molecular spectra", ICML 2021, eqs. 7-9): per atom, scalars s (N,F)
    and vectors v (N,3,F).  Messages from neighbour j to atom i over the edge
    i -> j with unit vector u_ij:
        (x_s, x_vv, x_vs) = phi(s_j) * W(rbf(d_ij)) * env(d_ij)
        ds_i = sum_j x_s,   dv_i = sum_j x_vv v_j + x_vs u_ij
    then an update mixing s with the norms and inner products of v:
        (a_vv, a_sv, a_ss) = a([s, |V v|]);  v += a_vv U v;
        s += a_sv <U v, V v> + a_ss.
    Vectors enter only through linear maps, norms and inner products, so the
    block is rotation-equivariant, and v carries the directions of the
    bonds, which the radial network cannot: its carbon score network moved
    atoms noised by 0.1 Å further from the real structure (cdvae/README.md)."""

    def __init__(self, hidden: int, rbf: int, scale: float, bound: float | None = None):
        super().__init__()
        F_ = hidden
        self.phi = mlp([F_, F_, 3 * F_])
        self.filt = nn.Linear(rbf, 3 * F_)
        self.U = nn.Linear(F_, F_, bias=False)
        self.V = nn.Linear(F_, F_, bias=False)
        self.a = mlp([2 * F_, F_, 3 * F_])
        self.scale = scale
        self.bound = bound
        self.F = F_

    def forward(self, s, v, src, dst, rbf, env, unit, rowsum=rows_like):
        F_ = self.F
        x = self.phi(s)[dst] * self.filt(rbf) * env[:, None]
        xs, xvv, xvs = x[:, :F_], x[:, F_:2 * F_], x[:, 2 * F_:]
        dv = v[dst] * xvv[:, None, :] + unit[:, :, None] * xvs[:, None, :]       # (E,3,F)
        s = s + rowsum(xs, src, s) * self.scale
        v = v + rowsum(dv.reshape(-1, 3 * F_), src, s).reshape(-1, 3, F_) * self.scale
        Uv, Vv = self.U(v), self.V(v)
        # the small constant keeps the gradient of the norm finite at v = 0 (the first block)
        a = self.a(torch.cat([s, torch.sqrt((Vv * Vv).sum(1) + 1e-8)], -1))
        avv, asv, ass = a[:, :F_], a[:, F_:2 * F_], a[:, 2 * F_:]
        s, v = s + asv * (Uv * Vv).sum(1) + ass, v + avv[:, None, :] * Uv
        if self.bound is not None:
            s, v = bound_features(s, v, self.bound)
        return s, v


def bound_features(s: torch.Tensor, v: torch.Tensor, bound: float):
    """Clamp each scalar to ±bound and shorten each vector channel longer
    than bound to that length (a rescaling along itself, so rotation
    equivariance holds).  Identity on features within the bound.  A NaN
    stays NaN (clamp and min pass it through), so this is no cover for
    non-finite input."""
    norm = torch.sqrt((v * v).sum(1, keepdim=True))
    shrink = torch.clamp(bound / torch.clamp(norm, min=bound), max=1.0)
    return torch.clamp(s, -bound, bound), v * shrink


@contextlib.contextmanager
def feature_bound_set_to(model: nn.Module, bound: float | None):
    """Run the PaiNN blocks of ``model`` with ``bound`` (None: unbounded)
    inside the ``with``, and give each block its own bound back after it,
    even on an exception.  For measuring the training range and for showing
    that a case clips; the config (and so an export) keeps its bound."""
    layers = [layer for layer in model.modules() if isinstance(layer, PaiNNLayer)]
    saved = [layer.bound for layer in layers]
    for layer in layers:
        layer.bound = bound
    try:
        yield model
    finally:
        for layer, own in zip(layers, saved):
            layer.bound = own


class PaiNNScoreNet(nn.Module):
    """ScoreNet's inputs and outputs with PaiNN blocks: the coordinate score
    is the radial term of ScoreNet (sum over edges of scalars x unit
    vectors) plus a linear read-out of each atom's vector features."""

    def __init__(self, cfg: Config):
        super().__init__()
        V = len(cfg.vocab)
        self.embed = nn.Embedding(V, cfg.hidden)
        self.basis = RadialBasis(cfg.rbf, cfg.cutoff)
        self.inp = mlp([cfg.hidden + cfg.latent + 1, cfg.hidden, cfg.hidden])
        self.layers = nn.ModuleList(
            PaiNNLayer(cfg.hidden, cfg.rbf, cfg.msg_scale, cfg.feature_bound) for _ in range(cfg.dec_layers))
        self.edge_out = mlp([2 * cfg.hidden + cfg.rbf, cfg.hidden, 1])
        self.vec_out = nn.Linear(cfg.hidden, 1, bias=False)
        self.type_out = mlp([cfg.hidden, cfg.hidden, V])
        self.hidden = cfg.hidden

    def forward(self, z_atom, types, log_sigma, src, dst, vec, rowsum=rows_like):
        """``rowsum``: how rows are summed per atom (export.py passes its
        ONNX-friendly RowSum; the function is the same)."""
        dist = vec.norm(dim=-1)
        rbf, env = self.basis(dist)
        unit = vec / torch.clamp(dist, min=1e-6)[:, None]
        s = self.inp(torch.cat([self.embed(types), z_atom, log_sigma[:, None]], -1))
        # zeros shaped from s (not from s.shape), so the ONNX graph keeps N dynamic
        v = torch.zeros_like(s)[:, None, :].expand(-1, 3, -1)
        for layer in self.layers:
            s, v = layer(s, v, src, dst, rbf, env, unit, rowsum)
        e = self.edge_out(torch.cat([s[src], s[dst], rbf], -1)) * env[:, None]
        score = rowsum(e * unit, src, s) + self.vec_out(v)[:, :, 0]
        return score, self.type_out(s)


SCORE_NETS = {"radial": ScoreNet, "painn": PaiNNScoreNet}


class CDVAE(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        V = len(cfg.vocab)
        self.register_buffer("z_to_index", self._index_table(cfg.vocab))
        self.encoder = GraphNet(cfg, V, cfg.enc_layers)
        self.enc_embed_dim = V
        self.fc_mu = nn.Linear(cfg.hidden, cfg.latent)
        self.fc_logvar = nn.Linear(cfg.hidden, cfg.latent)
        self.fc_num_atoms = mlp([cfg.latent, cfg.hidden, cfg.hidden, cfg.max_atoms + 1])
        self.fc_lattice = mlp([cfg.latent, cfg.hidden, cfg.hidden, 6])
        self.fc_composition = mlp([cfg.latent, cfg.hidden, cfg.hidden, V])
        self.fc_property = mlp([cfg.latent, cfg.hidden, cfg.hidden, 1])
        if cfg.score_net not in SCORE_NETS:
            raise ValueError(f"unknown score network {cfg.score_net!r} (known: {', '.join(SCORE_NETS)})")
        self.score = SCORE_NETS[cfg.score_net](cfg)
        self.register_buffer("sigmas", geometric(cfg.sigma_begin, cfg.sigma_end, cfg.num_noise_levels))
        self.register_buffer("type_sigmas", geometric(cfg.type_sigma_begin, cfg.type_sigma_end, cfg.num_noise_levels))
        self.register_buffer("lat_mean", torch.tensor(cfg.lattice_mean, dtype=torch.float32))
        self.register_buffer("lat_std", torch.tensor(cfg.lattice_std, dtype=torch.float32))
        # registered last, so that an optimiser state saved without it keeps
        # its parameter indices (volume_head.py adds the head to a checkpoint)
        if cfg.volume_head:
            self.fc_volume = mlp([cfg.latent, cfg.hidden, cfg.hidden, 1])

    @staticmethod
    def _index_table(vocab: list[int]) -> torch.Tensor:
        t = torch.full((119,), -1, dtype=torch.long)
        for i, z in enumerate(vocab):
            t[z] = i
        return t

    # ---- encoder and heads
    def encode(self, types, src, dst, vec, crystal, B):
        x = F.one_hot(types, self.enc_embed_dim).float()
        h, *_ = self.encoder(x, src, dst, vec)
        count = torch.zeros(B).index_add(0, crystal, torch.ones(len(crystal)))
        pooled = torch.zeros(B, h.shape[1]).index_add(0, crystal, h) / count[:, None]
        return self.fc_mu(pooled), self.fc_logvar(pooled)

    def heads(self, z):
        """z (B,latent) -> num-atoms logits, lattice (lengths / N^(1/3) in Å,
        angles in degrees; scaled to the volume head's volume per atom when
        the model has one), composition probabilities, property (eV/atom)."""
        lat = self.fc_lattice(z) * self.lat_std + self.lat_mean
        if self.cfg.volume_head:
            lat = scale_to_volume(lat, self.volume_per_atom(z))
        comp = torch.softmax(self.fc_composition(z), -1)
        prop = self.fc_property(z)[:, 0] * self.cfg.prop_std + self.cfg.prop_mean
        return self.fc_num_atoms(z), lat, comp, prop

    def volume_per_atom(self, z):
        """Å³ per atom predicted by the volume head (model must have one)."""
        cfg = self.cfg
        return torch.exp(self.fc_volume(z)[:, 0] * cfg.log_volume_std + cfg.log_volume_mean)

    def volume_loss(self, z, target_log_volume):
        """MSE of the standardised log volume per atom (the lattice loss's scale)."""
        cfg = self.cfg
        return F.mse_loss(self.fc_volume(z)[:, 0],
                          (target_log_volume - cfg.log_volume_mean) / cfg.log_volume_std)

    # ---- training loss
    def loss(self, batch: dict, generator: torch.Generator | None = None) -> dict:
        cfg = self.cfg
        types, frac, lattice = batch["types"], batch["frac"], batch["lattice"]
        crystal, num_atoms = batch["crystal"], batch["num_atoms"]
        B = len(num_atoms)
        src, dst, vec = radius_graph_pbc(frac, lattice, num_atoms, cfg.cutoff)
        mu, logvar = self.encode(types, src, dst, vec, crystal, B)
        eps = torch.randn(mu.shape, generator=generator)
        z = mu + eps * torch.exp(0.5 * logvar)
        kld = torch.mean(-0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp(), dim=1))

        natom_logits = self.fc_num_atoms(z)
        natom_loss = F.cross_entropy(natom_logits, num_atoms)

        lat_target = torch.cat([batch["lengths"] / num_atoms[:, None].float() ** (1 / 3),
                                batch["angles"]], -1)
        lat_pred = self.fc_lattice(z)
        lattice_loss = F.mse_loss(lat_pred, (lat_target - self.lat_mean) / self.lat_std)
        volume_loss = (self.volume_loss(z, log_volume_per_atom(lattice, num_atoms))
                       if cfg.volume_head else torch.zeros(()))

        V = len(cfg.vocab)
        onehot = F.one_hot(types, V).float()
        comp_true = torch.zeros(B, V).index_add(0, crystal, onehot) / num_atoms[:, None]
        comp_logp = torch.log_softmax(self.fc_composition(z), -1)
        composition_loss = -(comp_true * comp_logp).sum(-1).mean()

        prop = batch["prop"]
        ok = ~torch.isnan(prop)
        prop_pred = self.fc_property(z)[:, 0]
        property_loss = (F.mse_loss(prop_pred[ok], (prop[ok] - cfg.prop_mean) / cfg.prop_std)
                         if ok.any() else torch.zeros(()))

        # denoising: one noise level per crystal
        level = torch.randint(0, cfg.num_noise_levels, (B,), generator=generator)
        sigma = self.sigmas[level][crystal]
        type_sigma = self.type_sigmas[level][crystal]
        cart = frac_to_cart(frac, lattice, crystal)
        noisy_cart = cart + torch.randn(cart.shape, generator=generator) * sigma[:, None]
        noisy_frac = torch.remainder(cart_to_frac(noisy_cart, lattice, crystal), 1.0)
        probs = onehot + comp_true[crystal] * type_sigma[:, None]
        noisy_types = torch.multinomial(probs, 1, generator=generator)[:, 0]

        nsrc, ndst, nvec = radius_graph_pbc(noisy_frac, lattice, num_atoms, cfg.cutoff)
        score, type_logits = self.score(z[crystal], noisy_types, torch.log(sigma),
                                        nsrc, ndst, nvec)
        target = min_image_diff(frac, noisy_frac, lattice, crystal) / sigma[:, None]
        per_atom = 0.5 * ((score - target) ** 2).sum(-1)
        coord_loss = _crystal_mean(per_atom, crystal, B)
        type_ce = F.cross_entropy(type_logits, types, reduction="none") / type_sigma
        type_loss = _crystal_mean(type_ce, crystal, B)

        total = (cfg.cost_natom * natom_loss + cfg.cost_lattice * (lattice_loss + volume_loss)
                 + cfg.cost_composition * composition_loss + cfg.cost_coord * coord_loss
                 + cfg.cost_type * type_loss + cfg.cost_property * property_loss
                 + cfg.beta * kld)
        return {"loss": total, "natom": natom_loss, "lattice": lattice_loss, "volume": volume_loss,
                "composition": composition_loss, "coord": coord_loss,
                "type": type_loss, "property": property_loss, "kld": kld}


def log_volume_per_atom(lattice: torch.Tensor, num_atoms: torch.Tensor) -> torch.Tensor:
    """(B,3,3) cells and (B,) atom counts -> log(Å³ per atom), the volume head's target."""
    return torch.log(torch.det(lattice).abs() / num_atoms.float())


def _crystal_mean(x, crystal, B):
    s = torch.zeros(B).index_add(0, crystal, x)
    n = torch.zeros(B).index_add(0, crystal, torch.ones_like(x))
    return (s / n).mean()


def collate(crystals, vocab_index: torch.Tensor) -> dict:
    """A batch of data.Crystal -> tensors (float32)."""
    num_atoms = torch.tensor([len(c.numbers) for c in crystals])
    numbers = torch.cat([torch.as_tensor(c.numbers, dtype=torch.long) for c in crystals])
    lengths = torch.as_tensor(np.stack([c.lengths for c in crystals]), dtype=torch.float32)
    angles = torch.as_tensor(np.stack([c.angles for c in crystals]), dtype=torch.float32)
    return {
        "num_atoms": num_atoms,
        "crystal": torch.repeat_interleave(torch.arange(len(crystals)), num_atoms),
        "types": vocab_index[numbers],
        "frac": torch.cat([torch.as_tensor(c.frac, dtype=torch.float32) for c in crystals]),
        "lengths": lengths, "angles": angles,
        "lattice": lattice_from_params(lengths, angles),
        "prop": torch.tensor([c.prop for c in crystals], dtype=torch.float32),
    }

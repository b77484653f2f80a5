"""A latent prior fitted to the data: a Gaussian moment-matched to the
aggregate posterior of the training crystals.

CDVAE samples z from N(0, I). With the KL weight the paper uses (beta 0.01)
the encoder's posteriors do not fill that prior: the Materials Project model
decodes from N(0, I) compositions of 6.8 elements on average (the test
crystals have 2.8), from its training crystals' posterior means 3.2
(cdvae/README.md, "the latent prior"). Sampling z from the distribution the
decoder was trained on is ex-post density estimation (Ghosh et al., "From
Variational to Deterministic Autoencoders", ICLR 2020); the simplest such
density is one Gaussian with the aggregate posterior's mean and covariance:

    q(z) = mean_i N(mu_i, diag sigma_i²)
    E[z] = mean_i mu_i,   Cov[z] = Cov_i(mu_i) + mean_i diag(sigma_i²)

z = mean + L · ε with L the Cholesky factor and ε ~ N(0, I), so a sampler
keeps its random stream and only maps the vectors it draws (the app does the
same with the manifest's ``latent_prior``, src/core/generate/latent-prior.ts).
"""

from __future__ import annotations

import torch

from cdvae.heads_check import encode_split
from cdvae.model import CDVAE


def fit(model: CDVAE, crystals: list) -> dict:
    """{"mean": (latent,), "cholesky": (latent, latent) lower} of the
    aggregate posterior of ``crystals`` (the training split)."""
    enc = encode_split(model, crystals)
    mu, var = enc["mu"].double(), torch.exp(enc["logvar"]).double()
    cov = torch.cov(mu.T, correction=0) + torch.diag(var.mean(0))
    return {"mean": mu.mean(0).float(), "cholesky": torch.linalg.cholesky(cov).float()}


def apply(prior: dict | None, eps: torch.Tensor) -> torch.Tensor:
    """Map standard normal draws (B, latent) to the prior (None: N(0, I) itself)."""
    if prior is None:
        return eps
    return prior["mean"] + eps @ prior["cholesky"].T


def to_json(prior: dict) -> dict:
    """For the app's manifest: lists of numbers, the Cholesky factor row by row."""
    return {"kind": "gaussian fitted to the training crystals' aggregate posterior",
            "mean": prior["mean"].tolist(), "cholesky": prior["cholesky"].tolist()}

"""Spin-aware labels: the dataset's spin-restricted labels replaced, per
record, by the spin-polarised recomputation of ``spin_check.py`` where that
is the ground state (issue 28).

Rule, for a record with a converged polarised recomputation whose total
energy is lower than the restricted label's by more than ``LOWER_BY``:

* formation energy per site: the restricted label + ΔE / n_defects (the
  references are closed-shell and unchanged, so E_f moves by ΔE);
* gap: the smaller of the two spin channels' own LUMO − HOMO, as 2DMD's
  ``homo_lumo_gap_min`` (Huang et al., npj 2D Mater Appl 7, 6 (2023));
* HOMO, LUMO: the highest occupied and lowest unoccupied level over both
  channels (GPAW's ``get_homo_lumo()`` of the polarised run), relative to the
  pristine VBM like every level label.

Otherwise (ΔE within 10 meV, or no polarised run) the restricted labels
stand; runs that did not converge are counted, never used.
"""

from __future__ import annotations

from collections import defaultdict

from defects.store import read_jsonl

#: eV: polarised must be lower than restricted by more than this to replace it (issue 28's threshold).
LOWER_BY = 0.010


def odd_electrons(rec: dict) -> bool:
    """An odd electron count (``n_electrons`` of a dataset record or of a
    spin check): a half-filled level in the spin-restricted label."""
    return int(round(rec["n_electrons"])) % 2 == 1


def spin_records(path: str) -> dict[str, dict]:
    """The recomputations in ``path`` by record id (a later line for the same id wins)."""
    return {r["id"]: r for r in read_jsonl(path)}


def relabel(rec: dict, spin: dict | None) -> dict | None:
    """The spin-aware labels of ``rec`` (``formation_energy_per_site``,
    ``gap``, ``homo``, ``lumo``, absolute levels in eV), or None where the
    restricted labels stand."""
    if spin is None or "polarised" not in spin or spin["id"] != rec["id"]:
        return None
    p = spin["polarised"]
    delta = p["energy"] - rec["energy"]
    if not delta < -LOWER_BY:
        return None
    (h_up, l_up), (h_dn, l_dn) = p["homo_lumo_by_spin"]
    return {
        "formation_energy_per_site": rec["formation_energy_per_site"] + delta / rec["n_defects"],
        "gap": min(l_up - h_up, l_dn - h_dn),
        "homo": max(h_up, h_dn),
        "lumo": min(l_up, l_dn),
        "delta_energy": delta,
    }


def coverage(records: list[dict], spins: dict[str, dict]) -> dict[str, dict[str, int]]:
    """Per host: odd-electron records, how many were recomputed, converged,
    failed, and relabelled (polarised lower by more than LOWER_BY); and the
    same for the even-electron records (``even_*``: a random sample is
    checked, spin_check.py --even)."""
    keys = ("odd", "checked", "converged", "failed", "relabelled")
    out: dict[str, dict[str, int]] = defaultdict(
        lambda: {**dict.fromkeys(keys, 0), **dict.fromkeys(("even",) + tuple(f"even_{k}" for k in keys[1:]), 0)})
    for rec in records:
        if "error" in rec:
            continue
        c = out[rec["host"]]
        odd = odd_electrons(rec)
        pre = "" if odd else "even_"
        c["odd" if odd else "even"] += 1
        s = spins.get(rec["id"])
        if s is None:
            continue
        c[pre + "checked"] += 1
        c[pre + ("converged" if "polarised" in s else "failed")] += 1
        c[pre + "relabelled"] += relabel(rec, s) is not None
    return dict(out)

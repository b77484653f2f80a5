"""The layout of one dataset record: the configuration and its structure.

Shared by the GPAW generator (``generate.py``) and the xtb labeller
(``xtb_label.py``), which add their own labels and settings to it.  Kept free
of GPAW so the xtb labeller and the tests run without it.
"""

from __future__ import annotations

from defects.sample import Config


def structure_dict(atoms) -> dict:
    return {
        "species": atoms.get_chemical_symbols(),
        "positions": [[round(float(x), 6) for x in p]
                      for p in atoms.get_positions()],
        "cell": [[round(float(x), 6) for x in v] for v in atoms.cell.array],
        "pbc": [bool(b) for b in atoms.pbc],
    }


def base_record(cfg: Config, atoms) -> dict:
    return {
        "id": cfg.id,
        "index": cfg.index,
        "host": cfg.host,
        "supercell": [cfg.size[0], cfg.size[1], 1],
        "n_defects": len(cfg.defects),
        "defects": [d.as_dict() for d in cfg.defects],
        "concentration": round(cfg.concentration(), 6),
        "density": cfg.density(),
        "config_hash": cfg.config_hash(),
        "canonical_key": cfg.canonical_key(),
        "formula": atoms.get_chemical_formula(),
        **structure_dict(atoms),
    }

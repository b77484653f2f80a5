"""Write the ensemble's MEGNet trunk as ONNX for the app's fast CPU path.

    cd models && /usr/bin/python3 -m properties.export_trunk

Reads the exported weights (``export/megnet-properties.json`` + ``.bin``,
written by ``properties.export``, which also calls this) and writes
``export/megnet-properties-trunk.onnx`` (``mlcore/megnet_onnx.py`` says what
is in it).  The file records the SHA-256 of the ``.bin`` it was built from,
and the app refuses a trunk whose weights file has changed since.
"""

from __future__ import annotations

import hashlib
import os

import onnx
from onnx import helper

from mlcore.megnet_onnx import trunk_graph
from mlcore.weights import read_weights

from .export import EXPORT, NAME

TRUNK = os.path.join(EXPORT, NAME + "-trunk.onnx")


def write_trunk(prefix: str = os.path.join(EXPORT, NAME), path: str = TRUNK) -> str:
    models, _ = read_weights(prefix)
    with open(prefix + ".bin", "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    model = trunk_graph(models, name=NAME + "_trunk")
    helper.set_model_props(model, {"weights_sha256": digest, "members": str(len(models))})
    onnx.save(model, path)
    return path


if __name__ == "__main__":
    print(f"wrote {write_trunk()}")

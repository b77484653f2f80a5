"""The radial score network's weights as one flat binary, for the app's
hand-written WASM SIMD forward (src/core/generate/wasm-score/), which runs a
Langevin step about twice as fast as onnxruntime-web's WASM kernels on the
same graph (bench/RESULTS.md).

    cd models && /usr/bin/python3 -m cdvae.score_weights --dataset perov_5

writes ``export/<dataset>/score_weights.bin`` and names it in the manifest
(``files.score_weights``). export.py calls ``write`` for every radial model
it exports; this entry point adds the file to an existing export, and
refuses when the checkpoint is no longer the exported model (the manifest's
epoch and best validation loss must match), so the two paths can never
describe different networks.

File layout (little-endian):

    bytes 0-3   "LLSW"
    bytes 4-7   u32 length L of the JSON header
    bytes 8..   the header, UTF-8, space-padded so the data starts at a
                multiple of 4
    then        float32 data; the header's tensors[name] = [offset, shape]
                (offset in floats from the start of the data)

Every matrix is stored input-major, ``(in, out)``: y = x W + b, the transpose
of nn.Linear's weight, so the kernel reads a row of W per input feature.  The
first layer of each edge MLP is split by input block as in export.edge_mlp:
``ws`` (h of the source atom), ``wd`` (h of the destination), ``wr`` (rbf).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys

import torch

from cdvae.model import CDVAE, ScoreNet

FORMAT = "latticelab-cdvae-score-weights/1"
MAGIC = b"LLSW"
FILE = "score_weights.bin"


def _linear(prefix: str, lin: torch.nn.Linear, out: dict) -> None:
    out[prefix + ".w"] = lin.weight.detach().t()
    out[prefix + ".b"] = lin.bias.detach()


def _split_first(prefix: str, lin: torch.nn.Linear, hidden: int, out: dict) -> None:
    w = lin.weight.detach()
    out[prefix + ".ws"] = w[:, :hidden].t()
    out[prefix + ".wd"] = w[:, hidden:2 * hidden].t()
    out[prefix + ".wr"] = w[:, 2 * hidden:].t()
    out[prefix + ".b"] = lin.bias.detach()


def tensors(model: CDVAE) -> tuple[dict, dict[str, torch.Tensor]]:
    """(header fields, name -> tensor) of a radial ScoreNet."""
    s = model.score
    if not isinstance(s, ScoreNet):
        raise ValueError(f"only the radial score network has a WASM forward; this model's is {model.cfg.score_net!r}")
    cfg, net = model.cfg, s.net
    H = cfg.hidden
    t: dict[str, torch.Tensor] = {"embed": s.embed.weight.detach()}
    _linear("inp0", net.inp[0], t)
    _linear("inp1", net.inp[2], t)
    for i, layer in enumerate(net.layers):
        p = f"layer{i}."
        _split_first(p + "msg0", layer.msg[0], H, t)
        _linear(p + "msg1", layer.msg[2], t)
        t[p + "norm.g"] = layer.norm.weight.detach()
        t[p + "norm.b"] = layer.norm.bias.detach()
        _linear(p + "upd0", layer.upd[0], t)
        _linear(p + "upd1", layer.upd[2], t)
    _split_first("out0", s.edge_out[0], H, t)
    _linear("out1", s.edge_out[2], t)
    _linear("type0", s.type_out[0], t)
    _linear("type1", s.type_out[2], t)
    layer0 = net.layers[0]
    header = {
        "format": FORMAT, "hidden": H, "latent": cfg.latent, "rbf": cfg.rbf, "cutoff": cfg.cutoff,
        "vocab_size": len(cfg.vocab), "layers": len(net.layers), "msg_scale": layer0.scale,
        "layer_norm_eps": layer0.norm.eps,
        # RadialBasis: centres linspace(0, cutoff, rbf), width cutoff / rbf
        "rbf_width": net.basis.width,
    }
    return header, t


def to_bytes(header: dict, t: dict[str, torch.Tensor]) -> bytes:
    index, chunks, offset = {}, [], 0
    for name, x in t.items():
        x = x.contiguous().to(torch.float32)
        index[name] = [offset, list(x.shape)]
        chunks.append(x.numpy().astype("<f4").tobytes())
        offset += x.numel()
    text = json.dumps({**header, "tensors": index}).encode()
    text += b" " * (-(8 + len(text)) % 4)
    return MAGIC + struct.pack("<I", len(text)) + text + b"".join(chunks)


def read(path: str) -> tuple[dict, dict[str, torch.Tensor]]:
    """The inverse of to_bytes (the tests' round trip)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:4] != MAGIC:
        raise ValueError(f"{path}: not a score-weights file")
    (n,) = struct.unpack("<I", raw[4:8])
    header = json.loads(raw[8:8 + n])
    data = torch.frombuffer(bytearray(raw[8 + n:]), dtype=torch.float32)
    out = {}
    for name, (off, shape) in header.pop("tensors").items():
        size = 1
        for d in shape:
            size *= d
        out[name] = data[off:off + size].reshape(shape)
    return header, out


def write(model: CDVAE, out_dir: str) -> str:
    header, t = tensors(model)
    path = os.path.join(out_dir, FILE)
    with open(path, "wb") as fh:
        fh.write(to_bytes(header, t))
    return path


def main() -> int:
    from cdvae.export import export_dir
    from cdvae.train import checkpoint_path, model_from_checkpoint

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="perov_5")
    p.add_argument("--checkpoint", default=None, help="default checkpoints/<dataset>.pt")
    args = p.parse_args()
    out = export_dir(args.dataset)
    manifest_path = os.path.join(out, "model.json")
    with open(manifest_path) as fh:
        manifest = json.load(fh)
    ck = torch.load(args.checkpoint or checkpoint_path(args.dataset))
    trained = manifest["training"]
    if ck["epoch"] != trained["epochs"] or ck["best_val"] != trained["best_val_loss"]:
        print(f"{args.dataset}: the checkpoint (epoch {ck['epoch']}, best {ck['best_val']:.4f}) is not the "
              f"exported model (epoch {trained['epochs']}, best {trained['best_val_loss']:.4f}); "
              "export it again (cdvae.export) instead", file=sys.stderr)
        return 2
    path = write(model_from_checkpoint(ck), out)
    manifest["files"]["score_weights"] = FILE
    with open(manifest_path, "w") as fh:
        json.dump(manifest, fh, indent=1)
    print(f"{args.dataset}: wrote {path} ({os.path.getsize(path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The MEGNet trunk of an ensemble as one ONNX graph, for onnxruntime-web's
WASM provider: the app's fast CPU path (``src/core/graph/megnet-ort.ts``).

The trunk is everything up to the readout (encoders and blocks); it is where
the time goes (dense layers over every edge).  Set2Set and the readout MLP
stay in TypeScript, where the per-segment softmax is exact and cheap.

The graph is written by hand with ``onnx.helper`` rather than traced, for
three reasons:

* the first edge layer is **factored**: ``[v_src, v_dst, e, u_g] W`` equals
  ``(v Wa)[src] + (v Wb)[dst] + e Wc + (u Wd)[g]`` with ``W`` split into four
  row blocks, so the 4F-wide product per edge becomes one F-wide product per
  edge plus three per-node (or per-graph) products, 2.5x fewer multiply-adds
  for F = 32, H = 64 (the same sum, in another order: float32 rounding only);
* segment means use ``ScatterND`` with ``reduction="add"`` (opset 16), any
  batch of graphs, rows in any order; torch 1.13's exporter writes
  ``index_add`` as a loop;
* softplus is ``Relu(x) + Log(1 + Exp(-|x|))``: onnxruntime-web's own
  ``Softplus`` is scalar and took twice as long as the whole composite on a
  3546 x 128 -> 64 -> 32 MLP here (16 vs 8 ms).  ``Log(1 + t)`` instead of
  ``log1p(t)`` costs at most ~6e-8 absolute (float32 1 + t), far below the
  parity tolerance.

Inputs (N nodes, E edges, B graphs of a batch; every index int64):
``nodes`` [N, nodeIn], ``dist`` [E], ``src`` [E], ``dst`` [E],
``state`` [B, stateIn], ``node_graph`` [N], ``edge_graph`` [E], and the
reciprocal counts ``inv_in_degree`` [N, 1], ``inv_graph_nodes`` [B, 1],
``inv_graph_edges`` [B, 1] (1 / max(1, count), as the reference's means).
Outputs per member k: ``v{k}`` [N, F], ``e{k}`` [E, F], ``u{k}`` [B, F].
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .megnet import MEGNet

OPSET = 17
INPUTS = [
    ("nodes", TensorProto.FLOAT, ["N", "node_in"]),
    ("dist", TensorProto.FLOAT, ["E"]),
    ("src", TensorProto.INT64, ["E"]),
    ("dst", TensorProto.INT64, ["E"]),
    ("state", TensorProto.FLOAT, ["B", "state_in"]),
    ("node_graph", TensorProto.INT64, ["N"]),
    ("edge_graph", TensorProto.INT64, ["E"]),
    ("inv_in_degree", TensorProto.FLOAT, ["N", 1]),
    ("inv_graph_nodes", TensorProto.FLOAT, ["B", 1]),
    ("inv_graph_edges", TensorProto.FLOAT, ["B", 1]),
]


class _Builder:
    """Collects nodes and initializers under unique names."""

    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.init: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, hint: str) -> str:
        self.n += 1
        return f"{hint}_{self.n}"

    def const(self, array: np.ndarray, hint: str) -> str:
        name = self.name(hint)
        self.init.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, out: str | None = None, **attrs) -> str:
        y = out or self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [y], **attrs))
        return y

    # -- layers -------------------------------------------------------------

    def softplus(self, x: str) -> str:
        relu = self.op("Relu", [x])
        t = self.op("Exp", [self.op("Neg", [self.op("Abs", [x])])])
        return self.op("Add", [relu, self.op("Log", [self.op("Add", [t, self.one])])])

    def dense(self, x: str, layer, act: bool, hint: str) -> str:
        w = layer.weight.detach().numpy().T.astype(np.float32)  # [in, out]
        b = layer.bias.detach().numpy().astype(np.float32)
        y = self.op("Add", [self.op("MatMul", [x, self.const(w, hint + "_w")]), self.const(b, hint + "_b")])
        return self.softplus(y) if act else y

    def mlp(self, x: str, mlp, hint: str) -> str:
        for k, layer in enumerate(mlp.layers):
            last = k == len(mlp.layers) - 1
            x = self.dense(x, layer, not (mlp.last_linear and last), f"{hint}{k}")
        return x

    def seg_mean(self, x: str, index: str, zeros: str, inv_count: str) -> str:
        """Per segment, the mean of the rows of x whose index is the segment."""
        idx = self.op("Unsqueeze", [index, self.axis1])
        return self.op("Mul", [self.op("ScatterND", [zeros, idx, x], reduction="add"), inv_count])


def trunk_graph(models: list[MEGNet], name: str = "megnet_trunk") -> onnx.ModelProto:
    """The encoders and blocks of every member, on one batch of graphs."""
    shape = models[0].shape
    if any(m.shape != shape for m in models):
        raise ValueError("members differ in shape")
    F = shape["features"]
    g = _Builder()
    g.one = g.const(np.ones(1, np.float32), "one")
    g.axis1 = g.const(np.array([1], np.int64), "axis1")
    width = g.const(np.array([F], np.int64), "F")
    # Zeros to scatter into: [N, F] and [B, F], shapes read from the inputs.
    zeros_n = g.op("ConstantOfShape", [g.op("Concat", [g.op("Shape", ["nodes"], end=1), width], axis=0)],
                   value=numpy_helper.from_array(np.zeros(1, np.float32)))
    zeros_b = g.op("ConstantOfShape", [g.op("Concat", [g.op("Shape", ["state"], end=1), width], axis=0)],
                   value=numpy_helper.from_array(np.zeros(1, np.float32)))
    dist_col = g.op("Unsqueeze", ["dist", g.axis1])
    outputs = []
    for k, m in enumerate(models):
        p = f"m{k}_"
        # Gaussian basis exp(-((d - mu) / sigma)^2), as rbf.ts.
        z = g.op("Div", [g.op("Sub", [dist_col, g.const(m.mu.numpy().reshape(1, -1), p + "mu")]),
                         g.const(np.array([m.sigma], np.float32), p + "sigma")])
        rbf = g.op("Exp", [g.op("Neg", [g.op("Mul", [z, z])])])
        v = g.mlp("nodes", m.nodeEncoder, p + "node_enc")
        e = g.mlp(rbf, m.edgeEncoder, p + "edge_enc")
        u = g.mlp("state", m.stateEncoder, p + "state_enc")
        for b, blk in enumerate(m.blocks):
            q = f"{p}b{b}_"
            first, rest = blk.edge.layers[0], blk.edge.layers[1:]
            w = first.weight.detach().numpy().T.astype(np.float32)  # [4F, H]
            wa, wb, wc, wd = (g.const(w[i * F:(i + 1) * F], f"{q}edge0_w{i}") for i in range(4))
            u_part = g.op("Add", [g.op("MatMul", [u, wd]), g.const(first.bias.detach().numpy(), q + "edge0_b")])
            pre = g.op("Add", [
                g.op("Add", [g.op("Gather", [g.op("MatMul", [v, wa]), "src"], axis=0),
                             g.op("Gather", [g.op("MatMul", [v, wb]), "dst"], axis=0)]),
                g.op("Add", [g.op("MatMul", [e, wc]), g.op("Gather", [u_part, "edge_graph"], axis=0)])])
            h = g.softplus(pre)
            for j, layer in enumerate(rest):
                h = g.dense(h, layer, True, f"{q}edge{j + 1}")
            e1 = h
            agg = g.seg_mean(e1, "dst", zeros_n, "inv_in_degree")
            u_nodes = g.op("Gather", [u, "node_graph"], axis=0)
            v1 = g.mlp(g.op("Concat", [v, agg, u_nodes], axis=1), blk.node, q + "node")
            mean_v = g.seg_mean(v1, "node_graph", zeros_b, "inv_graph_nodes")
            mean_e = g.seg_mean(e1, "edge_graph", zeros_b, "inv_graph_edges")
            u1 = g.mlp(g.op("Concat", [u, mean_v, mean_e], axis=1), blk.state, q + "state")
            last = b == len(m.blocks) - 1
            e = g.op("Add", [e1, e], out=f"e{k}" if last else None)
            v = g.op("Add", [v1, v], out=f"v{k}" if last else None)
            u = g.op("Add", [u1, u], out=f"u{k}" if last else None)
        if not m.blocks:
            raise ValueError("a MEGNet without blocks has no trunk to export")
        outputs += [helper.make_tensor_value_info(f"v{k}", TensorProto.FLOAT, ["N", F]),
                    helper.make_tensor_value_info(f"e{k}", TensorProto.FLOAT, ["E", F]),
                    helper.make_tensor_value_info(f"u{k}", TensorProto.FLOAT, ["B", F])]
    graph = helper.make_graph(g.nodes, name, [helper.make_tensor_value_info(*i) for i in INPUTS],
                              outputs, g.init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="latticelab mlcore.megnet_onnx")
    model.ir_version = 8  # what onnxruntime-web 1.30 and onnx 1.12 both read
    onnx.checker.check_model(model)
    return model


def trunk_feeds(nodes, src, dst, dist, state, node_graph, edge_graph) -> dict:
    """The graph's inputs as numpy arrays, counts included (for tests)."""
    nodes = np.asarray(nodes, np.float32)
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    node_graph, edge_graph = np.asarray(node_graph, np.int64), np.asarray(edge_graph, np.int64)
    state = np.asarray(state, np.float32)
    N, B = len(nodes), len(state)

    def inv(index, n):
        return (1.0 / np.maximum(1, np.bincount(index, minlength=n))).astype(np.float32).reshape(-1, 1)
    return {"nodes": nodes, "dist": np.asarray(dist, np.float32), "src": src, "dst": dst, "state": state,
            "node_graph": node_graph, "edge_graph": edge_graph, "inv_in_degree": inv(dst, N),
            "inv_graph_nodes": inv(node_graph, B), "inv_graph_edges": inv(edge_graph, B)}

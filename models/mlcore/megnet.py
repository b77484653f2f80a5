"""MEGNet in PyTorch, computing exactly the forward of ``src/core/graph/megnet.ts``.

The TypeScript model is the reference: this file mirrors it layer for layer so
that trained weights can be exported to the app (see REPRESENTATION.md):

    v = phi_v0(nodes), e = phi_e0(RBF(dist)), u = phi_u0(state)
    block:  e' = phi_e([v_src, v_dst, e, u_g])
            v' = phi_v([v, mean_{edges into v} e', u_g])
            u' = phi_u([u, mean_nodes v', mean_edges e'])
            v += v', e += e', u += u'
    y = phi_out([Set2Set(v), Set2Set(e), u])        (last layer linear)

Details that matter for number-for-number agreement:

* softplus is ``max(x, 0) + log1p(exp(-|x|))`` (dense.ts), written out rather
  than ``F.softplus`` (which switches to x above 20) so the ONNX graph uses only
  elementary ops whose behaviour every runtime agrees on;
* Gaussian basis ``exp(-((d - mu_k) / sigma)^2)``, mu_k evenly spaced on
  [0, cutoff], sigma = cutoff / (count - 1) (rbf.ts ``megnetBasis``);
* Set2Set uses PyTorch's LSTM gates (i, f, g, o), computed by hand from an
  ``nn.LSTMCell``'s parameters (so the export needs no LSTM op); a graph with
  no edges gets r = 0 from the edge Set2Set, and zero means everywhere.

Two interchangeable implementations of the segment reductions:
``ScatterOps`` (index_add, any batch of graphs; used for training) and
``DenseOps`` (one graph, one-hot matrix products; used for the ONNX export,
because it has no scatter ops and empty edge sets reduce to zeros naturally).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

# scatter_reduce (segment max in ScatterOps) is stable enough for our use.
warnings.filterwarnings("ignore", message="scatter_reduce.*beta")


def softplus(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))


class MLP(nn.Module):
    """Dense layers ``softplus(x W + b)``; the last one linear if asked."""

    def __init__(self, sizes: list[int], last_linear: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in
                                    zip(sizes[:-1], sizes[1:]))
        self.last_linear = last_linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for k, layer in enumerate(self.layers):
            x = layer(x)
            if not (self.last_linear and k == len(self.layers) - 1):
                x = softplus(x)
        return x


class ScatterOps:
    """Segment reductions for a batch of graphs (index_add; rows need not be
    sorted).  Empty segments give zeros."""

    @staticmethod
    def seg_sum(x: torch.Tensor, seg: torch.Tensor, count: int) -> torch.Tensor:
        return torch.zeros(count, x.shape[1], dtype=x.dtype).index_add(0, seg, x)

    @classmethod
    def seg_mean(cls, x, seg, count: int):
        n = torch.zeros(count, dtype=x.dtype).index_add(
            0, seg, torch.ones(seg.shape[0], dtype=x.dtype))
        return cls.seg_sum(x, seg, count) / torch.clamp(n, min=1).unsqueeze(1)

    @classmethod
    def edges_to_nodes_mean(cls, e, dst, nodes):
        """Per node, the mean of the edges arriving at it (grouped by dst)."""
        return cls.seg_mean(e, dst, nodes.shape[0])

    graph_mean = seg_mean

    @classmethod
    def seg_softmax_sum(cls, logits, x, seg, count: int):
        """r_g = sum_i softmax_g(logits)_i x_i (max subtracted per segment)."""
        m = torch.zeros(count, dtype=logits.dtype).scatter_reduce(
            0, seg, logits, reduce="amax", include_self=False)
        p = torch.exp(logits - m[seg])
        s = torch.zeros(count, dtype=logits.dtype).index_add(0, seg, p)
        return cls.seg_sum((p / s[seg]).unsqueeze(1) * x, seg, count)


class DenseOps:
    """The same reductions for ONE graph (graph-level segments are all rows),
    as one-hot matrix products: no scatter ops in the ONNX graph, and with
    zero edges the products over the empty dimension are zeros and the
    counts are clamped to >= 1."""

    @staticmethod
    def edges_to_nodes_mean(e, dst, nodes):
        ids = torch.arange(nodes.shape[0], dtype=dst.dtype)  # dynamic N
        onehot = (dst.unsqueeze(1) == ids.unsqueeze(0)).to(e.dtype)  # [E, N]
        s = onehot.transpose(0, 1) @ e
        n = onehot.transpose(0, 1) @ torch.ones_like(e[:, :1])
        return s / torch.clamp(n, min=1)

    @staticmethod
    def graph_mean(x, seg, count):
        ones = torch.ones_like(x[:, :1]).transpose(0, 1)  # [1, R]
        return (ones @ x) / torch.clamp(ones @ ones.transpose(0, 1), min=1)

    @staticmethod
    def seg_softmax_sum(logits, x, seg, count):
        e = logits.unsqueeze(1)  # [R, 1]
        floor = torch.full((1, 1), -1e30, dtype=e.dtype)
        m = torch.max(torch.cat([e, floor], dim=0))  # never an empty max
        p = torch.exp(e - m)
        s = torch.ones_like(p).transpose(0, 1) @ p  # [1, 1], 0 if no rows
        return (p / s).transpose(0, 1) @ x  # [1, F], zeros if no rows


class Set2Set(nn.Module):
    """Set2Set with PyTorch LSTM gates (i, f, g, o); b = bias_ih + bias_hh."""

    def __init__(self, features: int, steps: int = 3):
        super().__init__()
        self.lstm = nn.LSTMCell(2 * features, features)
        self.features = features
        self.steps = steps

    def forward(self, x, seg, ops, batch: int) -> torch.Tensor:
        F = self.features
        h = torch.zeros(batch, F, dtype=x.dtype)
        c = torch.zeros(batch, F, dtype=x.dtype)
        q_star = torch.zeros(batch, 2 * F, dtype=x.dtype)
        w_ih, w_hh = self.lstm.weight_ih, self.lstm.weight_hh
        b = self.lstm.bias_ih + self.lstm.bias_hh
        for _ in range(self.steps):
            z = q_star @ w_ih.t() + h @ w_hh.t() + b
            i, f, g, o = z[:, :F], z[:, F:2 * F], z[:, 2 * F:3 * F], z[:, 3 * F:]
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            logits = (x * h[seg]).sum(dim=1)
            r = ops.seg_softmax_sum(logits, x, seg, batch)
            q_star = torch.cat([h, r], dim=1)
        return q_star


class Block(nn.Module):
    def __init__(self, F: int, hidden: int):
        super().__init__()
        self.edge = MLP([4 * F, hidden, F])
        self.node = MLP([3 * F, hidden, F])
        self.state = MLP([3 * F, hidden, F])


class MEGNet(nn.Module):
    """The TypeScript MEGNet; ``shape`` uses the manifest's keys."""

    def __init__(self, nodeIn=33, stateIn=7, rbf=50, cutoff=10.0, hidden=64,
                 features=32, blocks=3, outputs=2, set2setSteps=3):
        super().__init__()
        self.shape = dict(nodeIn=nodeIn, stateIn=stateIn, rbf=rbf,
                          cutoff=cutoff, hidden=hidden, features=features,
                          blocks=blocks, outputs=outputs)
        self.set2set_steps = set2setSteps
        F, H = features, hidden
        self.register_buffer("mu", torch.linspace(0, cutoff, rbf,
                                                  dtype=torch.float64).float())
        self.sigma = cutoff / (rbf - 1) if rbf > 1 else cutoff
        self.nodeEncoder = MLP([nodeIn, H, F])
        self.edgeEncoder = MLP([rbf, H, F])
        self.stateEncoder = MLP([stateIn, H, F])
        self.blocks = nn.ModuleList(Block(F, H) for _ in range(blocks))
        self.set2setNodes = Set2Set(F, set2setSteps)
        self.set2setEdges = Set2Set(F, set2setSteps)
        self.readout = MLP([5 * F, H, H // 2, outputs], last_linear=True)

    def rbf(self, dist: torch.Tensor) -> torch.Tensor:
        z = (dist.unsqueeze(1) - self.mu.unsqueeze(0)) / self.sigma
        return torch.exp(-z * z)

    def forward(self, nodes, src, dst, dist, state, node_graph, edge_graph,
                ops=ScatterOps):
        """Raw (normalised) outputs [B, outputs] for a batch of B graphs:
        node_graph / edge_graph give each node's / edge's graph index."""
        B = state.shape[0]
        v, e, u = self.trunk(nodes, src, dst, dist, state, node_graph, edge_graph, ops)
        readout = torch.cat([
            self.set2setNodes(v, node_graph, ops, B),
            self.set2setEdges(e, edge_graph, ops, B),
            u], dim=1)
        return self.readout(readout)

    def trunk(self, nodes, src, dst, dist, state, node_graph, edge_graph, ops=ScatterOps):
        """Node, edge and state features after the last block (what
        ``megnet_onnx.trunk_graph`` exports)."""
        B = state.shape[0]
        v = self.nodeEncoder(nodes)
        e = self.edgeEncoder(self.rbf(dist))
        u = self.stateEncoder(state)
        for blk in self.blocks:
            e1 = blk.edge(torch.cat([v[src], v[dst], e, u[edge_graph]], dim=1))
            v1 = blk.node(torch.cat([v, ops.edges_to_nodes_mean(e1, dst, nodes),
                                     u[node_graph]], dim=1))
            u1 = blk.state(torch.cat([u, ops.graph_mean(v1, node_graph, B),
                                      ops.graph_mean(e1, edge_graph, B)], dim=1))
            e, v, u = e1 + e, v1 + v, u1 + u
        return v, e, u


class SingleGraph(nn.Module):
    """One graph in, one model's de-normalised prediction out (inputs nodes
    [N, nodeIn], src/dst [E] int64, dist [E], state [1, stateIn]; output
    [1, outputs]): each member of the ONNX export's :class:`EnsembleGraph`."""

    def __init__(self, model: MEGNet, mean, std):
        super().__init__()
        self.model = model
        self.register_buffer("y_mean", torch.tensor(mean, dtype=torch.float32).reshape(1, -1))
        self.register_buffer("y_std", torch.tensor(std, dtype=torch.float32).reshape(1, -1))

    def forward(self, nodes, src, dst, dist, state):
        node_graph = torch.zeros_like(nodes[:, 0]).long()
        edge_graph = torch.zeros_like(src)
        raw = self.model(nodes, src, dst, dist, state, node_graph, edge_graph,
                         ops=DenseOps)
        return raw * self.y_std + self.y_mean


class EnsembleGraph(nn.Module):
    """Several MEGNets of one shape (the seeds of one training run) on one
    graph: the ONNX export's forward.  Same inputs as :class:`SingleGraph`;
    outputs ``y`` [1, outputs], the mean of the members' de-normalised
    predictions, and ``members`` [K, outputs], each member's own, whose spread
    the app reports as the prediction's uncertainty."""

    def __init__(self, models: list[MEGNet], mean, std):
        super().__init__()
        self.members = nn.ModuleList(SingleGraph(m, mean, std) for m in models)

    def forward(self, nodes, src, dst, dist, state):
        each = torch.cat([m(nodes, src, dst, dist, state) for m in self.members])
        # sum / K rather than mean(): ReduceMean is one more op for the
        # numpy ONNX interpreter that checks the export without onnxruntime.
        return each.sum(0, keepdim=True) / len(self.members), each


def collate(graphs: list[dict]) -> dict:
    """Concatenate graphs (dicts of numpy arrays) into one batch of tensors."""
    nodes, src, dst, dist, state, ng, eg = [], [], [], [], [], [], []
    offset = 0
    for gi, g in enumerate(graphs):
        n, e = len(g["nodes"]), len(g["src"])
        nodes.append(torch.as_tensor(g["nodes"], dtype=torch.float32))
        src.append(torch.as_tensor(g["src"], dtype=torch.long) + offset)
        dst.append(torch.as_tensor(g["dst"], dtype=torch.long) + offset)
        dist.append(torch.as_tensor(g["dist"], dtype=torch.float32))
        state.append(torch.as_tensor(g["state"], dtype=torch.float32).reshape(1, -1))
        ng.append(torch.full((n,), gi, dtype=torch.long))
        eg.append(torch.full((e,), gi, dtype=torch.long))
        offset += n
    return {"nodes": torch.cat(nodes), "src": torch.cat(src),
            "dst": torch.cat(dst), "dist": torch.cat(dist),
            "state": torch.cat(state), "node_graph": torch.cat(ng),
            "edge_graph": torch.cat(eg)}


def predict_raw(model: MEGNet, graphs: list[dict]) -> torch.Tensor:
    b = collate(graphs)
    return model(b["nodes"], b["src"], b["dst"], b["dist"], b["state"],
                 b["node_graph"], b["edge_graph"])

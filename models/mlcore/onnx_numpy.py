"""A tiny numpy interpreter for the ONNX graph that ``defects/export.py`` and
``mlcore/megnet_onnx.py`` write.

Debian has no onnxruntime package (and there is no pip here), and onnx 1.12
has no reference evaluator, so this runs the exported graph node by node with
numpy.  It implements only the ~28 operators our export uses, with ONNX
semantics, and refuses any other operator.  What it checks: that the exported
graph has no shapes frozen at trace time (it runs other N and E than the
tracing example) and that a graph with zero edges flows through every op.
It is not a substitute for the onnxruntime-web check in the browser.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

_DTYPES = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}


def _attrs(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    a = a.T if transA else a
    b = b.T if transB else b
    y = alpha * (a @ b)
    return y + beta * c if c is not None else y


def _slice(x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    idx = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        idx[int(a)] = slice(int(s), int(min(e, 2**62)), int(st))
    return x[tuple(idx)]


def _reduce(fn, x, axes, keepdims):
    axes = tuple(int(a) for a in axes) if axes is not None else None
    if x.size == 0 and fn is np.max:
        raise ValueError("ReduceMax over an empty tensor")
    return fn(x, axis=axes, keepdims=bool(keepdims))


def run(model, feeds: dict) -> list[np.ndarray]:
    """Evaluate ``model`` (path or ModelProto) on ``feeds``; returns outputs."""
    if isinstance(model, str):
        model = onnx.load(model)
    env = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    env.update(feeds)
    for node in model.graph.node:
        a = _attrs(node)
        x = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op in ("Add", "Sub", "Mul", "Div"):
            f = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}.get(op)
            if op == "Div":
                y = (x[0] // x[1] if np.issubdtype(x[0].dtype, np.integer)
                     else x[0] / x[1])
            else:
                y = f(x[0], x[1])
        elif op in ("Exp", "Log", "Abs", "Neg", "Tanh"):
            y = {"Exp": np.exp, "Log": np.log, "Abs": np.abs,
                 "Neg": np.negative, "Tanh": np.tanh}[op](x[0])
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "ScatterND":  # opset 16+: reduction none or add
            y = x[0].copy()
            idx = tuple(np.moveaxis(x[1], -1, 0))
            if a.get("reduction", b"none") in (b"add", "add"):
                np.add.at(y, idx, x[2])
            else:
                y[idx] = x[2]
        elif op == "Sigmoid":
            y = 1.0 / (1.0 + np.exp(-x[0]))
        elif op == "Clip":
            lo = x[1] if len(x) > 1 and x[1] is not None else -np.inf
            hi = x[2] if len(x) > 2 and x[2] is not None else np.inf
            y = np.clip(x[0], lo, hi)
        elif op == "MatMul":
            y = np.matmul(x[0], x[1])
        elif op == "Gemm":
            y = _gemm(*x, **a)
        elif op == "Gather":
            y = np.take(x[0], x[1], axis=a.get("axis", 0))
        elif op == "Shape":  # opset 15+: start / end attributes
            y = np.array(x[0].shape, dtype=np.int64)[a.get("start", 0):a.get("end", None)]
        elif op == "ConstantOfShape":
            v = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            y = np.full(tuple(int(s) for s in x[0]), v.reshape(-1)[0], dtype=v.dtype)
        elif op == "Cast":
            y = x[0].astype(_DTYPES[a["to"]])
        elif op == "Unsqueeze":
            y = x[0]
            for ax in sorted(int(v) for v in x[1]):
                y = np.expand_dims(y, ax if ax >= 0 else ax + y.ndim + 1)
        elif op == "Slice":
            y = _slice(x[0], x[1], x[2], *(v for v in x[3:]))
        elif op == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        elif op == "Identity":  # the exporter's alias for a shared constant
            y = x[0]
        elif op == "Transpose":
            y = np.transpose(x[0], a.get("perm"))
        elif op == "ReduceSum":  # opset 13+: axes is an input
            axes = x[1] if len(x) > 1 and x[1] is not None else None
            y = _reduce(np.sum, x[0], axes, a.get("keepdims", 1))
        elif op == "ReduceMax":  # opset < 18: axes is an attribute
            y = _reduce(np.max, x[0], a.get("axes"), a.get("keepdims", 1))
        elif op == "Range":
            y = np.arange(x[0], x[1], x[2]).astype(x[0].dtype)
        elif op == "Equal":
            y = np.equal(x[0], x[1])
        elif op == "Reshape":
            y = x[0].reshape(tuple(int(s) for s in x[1]))
        elif op == "Expand":
            y = x[0] * np.ones(tuple(int(s) for s in x[1]), dtype=x[0].dtype)
        else:
            raise NotImplementedError(f"onnx_numpy: operator {op}")
        y = np.asarray(y)
        if y.dtype == np.float64 and op not in ("Cast",):
            y = y.astype(np.float32)
        env[node.output[0]] = y
    return [env[o.name] for o in model.graph.output]

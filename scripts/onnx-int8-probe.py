#!/usr/bin/env python3
# Why Python: this probe answers issue 19's question "is 8-bit onnxruntime faster than the f32
# candle encoder here?". Building an ONNX graph and quantizing it are done by the `onnx` package
# and `onnxruntime.quantization`; Rust has neither (the `ort` crate runs graphs, it cannot build
# or quantize one), and the timings come from the same onnxruntime library that `ort` would
# load, so nothing is lost by calling it from Python. It is a measurement, not part of newsflow.
#
# Usage (a venv with onnx, onnxruntime, numpy and safetensors from PyPI):
#   RAYON_NUM_THREADS=1 target/release/newsflow bench encoder --write-batches /tmp/enc      # candle, f32
#   RAYON_NUM_THREADS=1 target/release/newsflow bench encoder --int8 --write-batches /tmp/enc8
#   python3 scripts/onnx-int8-probe.py /tmp/enc     # onnxruntime, compared with candle's f32 states
#   python3 scripts/onnx-int8-probe.py /tmp/enc8    # the same, compared with candle's 8-bit states
#
# It builds the base MiniLM encoder (models/base/all-MiniLM-L6-v2) as an ONNX graph, op for op
# as crates/nlp/src/encoder.rs runs it: in f32, and with 8-bit dense products rounded as
# `Dense::quantize_int8` rounds them (inputs per row, weights per column; MatMulInteger); plus
# onnxruntime's own quantize_dynamic (inputs per tensor) for comparison. It times each on one
# thread over the same batches (word pieces per CPU second) and compares its output on the
# first batch with the states candle wrote.
import argparse
import json
import pathlib
import statistics
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic
from safetensors.numpy import load_file

HIDDEN, HEADS, EPS = 384, 12, 1e-12


def build(weights, layers, int8=False):
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, out, **attrs):
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def dense(x, prefix, out):
        b = const(prefix + ".b", weights[prefix + ".bias"])
        w = weights[prefix + ".weight"].T.copy()  # [in, out]
        if not int8:
            return node("Add", [node("MatMul", [x, const(prefix + ".wt", w)], out + ".mm"), b], out)
        # As Dense::quantize_int8 rounds: the weight to 8 bits per output column (symmetric),
        # the input to 8 bits per row (asymmetric: 256 levels from min(row, 0) to max(row, 0)).
        # The rows' zero points are taken out after the integer product: sum((q - z) w) =
        # sum(q w) - z sum(w).
        w_scale = np.maximum(np.abs(w).max(axis=0) / 127.0, np.finfo(np.float32).tiny).astype(np.float32)
        w_q = np.round(w / w_scale).astype(np.int8)
        low = node("Min", [node("ReduceMin", [x], out + ".rmin", axes=[-1], keepdims=1), zero], out + ".low")
        high = node("Max", [node("ReduceMax", [x], out + ".rmax", axes=[-1], keepdims=1), zero], out + ".high")
        x_scale = node("Max", [node("Div", [node("Sub", [high, low], out + ".span"), c255], out + ".s0"), tiny], out + ".xs")
        x_zero = node("Clip", [node("Round", [node("Div", [node("Neg", [low], out + ".nlow"), x_scale], out + ".z0")], out + ".z1"), zero, c255], out + ".xz")
        q = node("Add", [node("Round", [node("Div", [x, x_scale], out + ".q0")], out + ".q1"), x_zero], out + ".q2")
        q = node("Cast", [node("Clip", [q, zero, c255], out + ".q3")], out + ".xq", to=TensorProto.UINT8)
        acc = node("Cast", [node("MatMulInteger", [q, const(prefix + ".wq", w_q)], out + ".mmi")], out + ".acc", to=TensorProto.FLOAT)
        column_sums = const(prefix + ".wsum", w_q.astype(np.float32).sum(axis=0))
        acc = node("Sub", [acc, node("Mul", [x_zero, column_sums], out + ".zw")], out + ".centred")
        y = node("Mul", [node("Mul", [acc, x_scale], out + ".y1"), const(prefix + ".ws", w_scale)], out + ".y2")
        return node("Add", [y, b], out)

    def norm(x, prefix, out):
        g = const(prefix + ".g", weights[prefix + ".weight"])
        b = const(prefix + ".beta", weights[prefix + ".bias"])
        return node("LayerNormalization", [x, g, b], out, axis=-1, epsilon=EPS)

    e = "embeddings"
    words = node("Gather", [const("word_table", weights[e + ".word_embeddings.weight"]), "input_ids"], "words")
    pos = node("Gather", [const("position_table", weights[e + ".position_embeddings.weight"]), "position_ids"], "positions")
    typ = const("type0", weights[e + ".token_type_embeddings.weight"][0])
    x = node("Add", [node("Add", [words, pos], "wp"), typ], "wpt")
    x = norm(x, e + ".LayerNorm", "emb")
    split_shape = const("split_shape", np.array([0, 0, HEADS, HIDDEN // HEADS], dtype=np.int64))
    join_shape = const("join_shape", np.array([0, 0, HIDDEN], dtype=np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(HIDDEN // HEADS), dtype=np.float32))
    sqrt2, one, half = (const(n, np.array(v, dtype=np.float32)) for n, v in
                        [("sqrt2", np.sqrt(2.0)), ("one", 1.0), ("half", 0.5)])
    if int8:
        zero, c255, tiny = (const(n, np.array(v, dtype=np.float32)) for n, v in
                            [("zero", 0.0), ("c255", 255.0), ("tiny", np.finfo(np.float32).tiny)])
    for i in range(layers):
        p, o = f"encoder.layer.{i}", f"l{i}"
        heads = {}
        for part, perm in [("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3])]:
            y = dense(x, f"{p}.attention.self.{part}", f"{o}.{part}")
            y = node("Reshape", [y, split_shape], f"{o}.{part}.split")
            heads[part] = node("Transpose", [y], f"{o}.{part}.heads", perm=perm)
        scores = node("MatMul", [heads["query"], heads["key"]], f"{o}.qk")
        scores = node("Add", [node("Mul", [scores, scale], f"{o}.scaled"), "mask"], f"{o}.masked")
        probs = node("Softmax", [scores], f"{o}.probs", axis=-1)
        ctx = node("MatMul", [probs, heads["value"]], f"{o}.ctx")
        ctx = node("Transpose", [ctx], f"{o}.ctx.t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, join_shape], f"{o}.ctx.join")
        attn = dense(ctx, f"{p}.attention.output.dense", f"{o}.attn")
        x = norm(node("Add", [attn, x], f"{o}.res1"), f"{p}.attention.output.LayerNorm", f"{o}.norm1")
        up = dense(x, f"{p}.intermediate.dense", f"{o}.up")
        erf = node("Erf", [node("Div", [up, sqrt2], f"{o}.updiv")], f"{o}.erf")
        gelu = node("Mul", [node("Mul", [up, node("Add", [erf, one], f"{o}.erf1")], f"{o}.g1"), half], f"{o}.gelu")
        down = dense(gelu, f"{p}.output.dense", f"{o}.down")
        x = norm(node("Add", [down, x], f"{o}.res2"), f"{p}.output.LayerNorm", f"{o}.out")
    nodes.append(helper.make_node("Identity", [x], ["states"], name="states"))
    graph = helper.make_graph(
        nodes, "minilm",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "len"]),
         helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["len"]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 1, 1, "len"])],
        [helper.make_tensor_value_info("states", TensorProto.FLOAT, ["batch", "len", HIDDEN])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model


def feeds(batch):
    t = max(len(s) for s in batch)
    ids = np.zeros((len(batch), t), dtype=np.int64)
    mask = np.zeros((len(batch), 1, 1, t), dtype=np.float32)
    for i, s in enumerate(batch):
        ids[i, :len(s)] = s
        mask[i, 0, 0, len(s):] = -1e4  # as crates/nlp/src/encoder.rs's attention_mask
    return {"input_ids": ids, "position_ids": np.arange(t, dtype=np.int64), "mask": mask}


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def agreement(states, reference, batch):
    """Largest absolute difference and the lowest cosine over the real (unpadded) pieces."""
    worst_diff, worst_cos = 0.0, 1.0
    for i, s in enumerate(batch):
        a, b = states[i, :len(s)], reference[i, :len(s)]
        worst_diff = max(worst_diff, float(np.abs(a - b).max()))
        cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
        worst_cos = min(worst_cos, float(cos.min()))
    return worst_diff, worst_cos


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("batches", type=pathlib.Path, help="the directory `newsflow bench encoder --write-batches` wrote")
    ap.add_argument("--base", type=pathlib.Path, default=pathlib.Path("models/base/all-MiniLM-L6-v2"))
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    batches = [json.loads(line) for line in (args.batches / "batches.jsonl").open()]
    pieces = sum(len(s) for b in batches for s in b)
    first = batches[0]
    reference = np.fromfile(args.batches / "first-batch.f32", dtype="<f4").reshape(
        len(first), max(map(len, first)), HIDDEN)
    inputs = [feeds(b) for b in batches]

    with tempfile.TemporaryDirectory(prefix="onnx-probe-") as work:
        measure(args, batches, pieces, reference, inputs, pathlib.Path(work))


def measure(args, batches, pieces, reference, inputs, work):
    first = batches[0]
    weights = load_file(args.base / "model.safetensors")
    f32, int8 = work / "f32.onnx", work / "int8.onnx"
    onnx.save(build(weights, args.layers), str(f32))
    onnx.save(build(weights, args.layers, int8=True), str(int8))
    variants = {"f32": f32, "int8 (newsflow's rounding)": int8}
    # onnxruntime's own tool on the f32 graph (inputs per tensor), for comparison
    quantize_dynamic(str(f32), str(work / "dynamic.onnx"), weight_type=QuantType.QInt8, per_channel=True)
    variants["int8 (quantize_dynamic)"] = work / "dynamic.onnx"

    print(f"{args.layers} layers, {len(batches)} batches, {pieces} word pieces; onnxruntime {ort.__version__}, one thread; median of {args.runs} runs")
    print(f"{'variant':<28} {'CPU s':>8} {'pieces/CPU s':>13} {'max |diff|':>11} {'min cosine':>11}")
    for name, path in variants.items():
        sess = session(path)
        diff, cos = agreement(sess.run(["states"], inputs[0])[0], reference, first)
        for f in inputs[:3]:  # warm-up
            sess.run(["states"], f)
        cpu = []
        for _ in range(args.runs):
            started = time.process_time()
            for f in inputs:
                sess.run(["states"], f)
            cpu.append(time.process_time() - started)
        s = statistics.median(cpu)
        print(f"{name:<28} {s:>8.3f} {pieces / s:>13.0f} {diff:>11.2e} {cos:>11.6f}")


if __name__ == "__main__":
    main()

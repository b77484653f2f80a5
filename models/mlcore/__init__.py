"""What the project's model pipelines share (defects, cdvae, properties).

* ``megnet``: the PyTorch MEGNet that mirrors ``src/core/graph/megnet.ts``
  layer for layer, with its segment reductions (scatter for training batches,
  dense one-hot for the single-graph ONNX export);
* ``weights``: the ``latticelab-megnet/2`` weight files the app reads
  (``src/core/graph/model-file.ts``), written and read back;
* ``results_md``: ``models/RESULTS.md``, one section per pipeline;
* ``megnet_onnx``: an ensemble's MEGNet trunk as one hand-written ONNX graph
  (the app's fast CPU path on onnxruntime-web's WASM provider);
* ``onnx_numpy``: a numpy interpreter of the ONNX graphs we write (Debian
  has no onnxruntime).

Pipelines are packages beside this one and run from ``models/`` as modules,
e.g. ``cd models && /usr/bin/python3 -m properties.train``, so imports need
no edits of the module search path.
"""

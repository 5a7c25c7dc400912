// Package training trains the 3DVLA policy: the paper's two-stage schedule
// (stage 1: spatial fusion + instance module + action expert (+ base);
// stage 2: those frozen, predictor + aggregation + action expert), AdamW with
// global-norm gradient clipping and a warm-up + cosine learning-rate
// schedule, Hungarian matching of instance probes in 3D on the host, the EMA
// teacher update, crash-safe checkpoints with resume, a JSON-lines metrics
// log, PNG loss curves and a terminal progress bar.
//
// Graphs run on GoMLX; on CPU the pure-Go backend ("go") is the default
// because the XLA plugin cannot be installed here. Its matmuls are an order
// of magnitude slower than ONNX Runtime's, so a step's forward-only passes
// — stage 1's matching pass, stage 2's frozen modules — run in ONNX Runtime
// when it loads (Config.ForwardRuntime, forwardPass), and only the part
// that needs gradients runs on GoMLX.
package training

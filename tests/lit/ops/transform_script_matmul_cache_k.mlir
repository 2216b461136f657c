// A transform_script schedule with a cache-level reduction tile (cache_k = 128 of K = 256) renders
// the K-blocking loop outermost, then the register tiles (N outside, order=1), then the reduction
// tile of 4 unrolled twice, vectorized (plain transform interpreter, upstream ops only).
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.transform_script import interpreter_module; \
// RUN:   w = Workload.from_key('matmul_64x128x256_f32xf32xf32'); \
// RUN:   print(w.single_op_module() + interpreter_module(w, dict(wg_m=32, wg_n=64, vec_m=8, vec_n=16, vec_k=4, order=1, unroll=2, cache_k=128)))" > %t.mlir
// RUN: iree-opt %t.mlir --transform-interpreter --canonicalize | filecheck %s

// CHECK-LABEL: func.func @main
// CHECK-DAG:     %[[C128:.+]] = arith.constant 128 : index
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK:         scf.for %[[KC:.+]] = %{{.+}} to %{{.+}} step %[[C128]]
// CHECK:           scf.for %[[N:.+]] = %{{.+}} to %{{.+}} step %[[C16]]
// CHECK:             scf.for %[[M:.+]] = %{{.+}} to %{{.+}} step %[[C8]]
// CHECK:               scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %[[C8]]
// CHECK:                 vector.contract {{.+}} vector<8x4xf32>, vector<4x16xf32> into vector<8x16xf32>
// CHECK:                 vector.contract {{.+}} vector<8x4xf32>, vector<4x16xf32> into vector<8x16xf32>
// CHECK-NOT:             vector.contract

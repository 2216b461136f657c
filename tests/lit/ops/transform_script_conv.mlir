// A conv transform_script schedule (NHWC) under the plain transform interpreter: output tiled with
// OH = 1, the OC loop (step 8) outside the OW loop (step 7) for order=1, KH = KW = 1 and IC step 4
// as reduction loops, the 2-D window decomposed into 1-D convs and vectorized to 1x7x4 * 4x8.
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.transform_script import interpreter_module; \
// RUN:   w = Workload.from_key('conv2d_nhwc_hwcf_1x16x16x8x3x3x16_s1_f32'); \
// RUN:   print(w.single_op_module() + interpreter_module(w, dict(wg_oh=2, wg_ow=14, wg_oc=16, vec_ow=7, vec_oc=8, vec_ic=4, order=1)))" > %t.mlir
// RUN: iree-opt %t.mlir --transform-interpreter --canonicalize | filecheck %s

// CHECK-LABEL: func.func @main
// CHECK:         scf.for %{{.+}} = %c0 to %c14 step %c1
// CHECK:           scf.for %{{.+}} = %c0 to %c16 step %c8
// CHECK:             scf.for %{{.+}} = %c0 to %c14 step %c7
// CHECK:               scf.for %{{.+}} = %c0 to %c3 step %c1
// CHECK:                 scf.for %{{.+}} = %c0 to %c3 step %c1
// CHECK:                   scf.for %{{.+}} = %c0 to %c8 step %c4
// CHECK:                     vector.contract {{.+}} vector<1x7x4xf32>, vector<4x8xf32> into vector<1x7x8xf32>
// CHECK-NOT:                 linalg.conv_2d_nhwc_hwcf ins

// An NCHW conv transform_script schedule under the plain transform interpreter. structured.decompose
// leaves each 1-D NCW conv between a rank-reducing extract_slice / insert_slice that drops OH (dim 2
// of N, F, OH, OW). The write of the conv's result must skip that dim: permutation map
// (d0, d1, d2, d3) -> (d0, d1, d3), all in bounds. (With vectorize_children_and_apply_patterns the
// insert_slice itself was vectorized with a minor-identity write, in_bounds = [true, false, true]:
// F written along OH, wrong results.)
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.transform_script import interpreter_module; \
// RUN:   w = Workload.from_key('conv2d_nchw_fchw_1x8x8x4x3x3x8_s1_f32'); \
// RUN:   print(w.single_op_module() + interpreter_module(w, dict(wg_oh=6, wg_ow=6, wg_oc=8, vec_ow=2, vec_oc=4, vec_ic=2, order=0)))" > %t.mlir
// RUN: iree-opt %t.mlir --transform-interpreter --iree-transform-dialect-drop-schedule | filecheck %s

// CHECK-DAG:   #[[$SKIP_OH:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @main
// CHECK:         vector.contract {{.+}} : vector<1x2x2xf32>, vector<2x4xf32> into vector<1x2x4xf32>
// CHECK:         vector.transfer_write %{{.+}} {in_bounds = [true, true, true], permutation_map = #[[$SKIP_OH]]} : vector<1x4x2xf32>, tensor<1x4x1x2xf32>
// CHECK-NOT:     in_bounds = [true, false, true]
// CHECK-NOT:     linalg.conv_2d_nchw_fchw ins

// A schedule that does not apply is rejected before compiling, with the reason.
// RUN: not python -m mlir_opt render-spec matmul_64x128x32_f32xf32xf32 dist_m=32 dist_n=64 vec_m=3 vec_n=32 vec_k=4 2>&1 | filecheck %s
// RUN: not python -m mlir_opt render-spec matmul_64x128x32_f32xf32xf32 dist_m=128 dist_n=64 vec_m=8 vec_n=32 vec_k=4 2>&1 | filecheck %s --check-prefix=BIG
// CHECK: error: schedule rejected before compiling: vec_m=3 is not one of (1, 2, 4, 8, 16)
// BIG: error: schedule rejected before compiling: dist_m=128 is not one of (8, 16, 32, 64)

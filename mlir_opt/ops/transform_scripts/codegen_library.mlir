// mlir_opt transform library: pass to iree-compile --iree-codegen-transform-dialect-library=<this file>
// Generated from mlir_opt/ops/transform_scripts/ (filled with string.Template).
// @__kernel_config runs per dispatch function before IREE's strategy selection: each matcher that
// fires either annotates its op with a compilation_info (config form), or sets the function's
// translation_info to a transform-dialect codegen strategy of this library (script form), which
// IREE then runs instead of its own pipeline (LowerExecutableUsingTransformDialectPass).
module attributes {transform.with_named_sequence} {
  transform.named_sequence @apply_op_config(%op: !transform.any_op {transform.readonly},
                                            %config: !transform.any_param {transform.readonly}) {
    transform.annotate %op "compilation_info" = %config : !transform.any_op, !transform.any_param
    transform.yield
  }
$entries
  transform.named_sequence @__kernel_config(%variant_op: !transform.any_op {transform.consumed})
      -> !transform.any_op {
    %res = transform.foreach_match in %variant_op
        $pairs
      : (!transform.any_op) -> !transform.any_op
    transform.yield %res : !transform.any_op
  }
}

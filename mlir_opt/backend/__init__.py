"""IREE backend: targets and flags, compile, run, check numbers, time."""

from .bench import (Timing, benchmark, benchmark_interleaved, benchmark_many, paired_ratio, save_inputs,
                    time_callable)
from .compile import CompileResult, compile_module, compiler_version, iree_tool
from .numerics import Check, compare_outputs, default_tolerance, rel_error
from .runtime import Runner, run_isolated, run_vmfb
from .targets import TARGETS, Target, default_threads, get_target

__all__ = ["Timing", "benchmark", "benchmark_interleaved", "benchmark_many", "paired_ratio", "save_inputs",
           "time_callable", "CompileResult", "compile_module",
           "compiler_version", "iree_tool", "Check", "compare_outputs", "default_tolerance",
           "rel_error", "Runner", "run_isolated", "run_vmfb", "TARGETS", "Target", "default_threads", "get_target"]

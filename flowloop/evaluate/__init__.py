"""flowloop.evaluate: is the specialist improving? Eval suites, the promotion gate, the report.

Heavy dependencies (torch, transformers, numpy) load inside the functions that need them.
"""

from flowloop.evaluate.gate import GateDecision, compare, gated_promote
from flowloop.evaluate.report import build_report
from flowloop.evaluate.results import EvalResult, SuiteResult, load_result
from flowloop.evaluate.runner import evaluate_model

__all__ = [
    "EvalResult",
    "GateDecision",
    "SuiteResult",
    "build_report",
    "compare",
    "evaluate_model",
    "gated_promote",
    "load_result",
]

"""Judge answers (a spec's `expect:` or a homework answers file) against the computed figures."""

from cnncalc.checking.compare import Answer, CheckResult, check_expect, load_answers

__all__ = ["Answer", "CheckResult", "check_expect", "load_answers"]

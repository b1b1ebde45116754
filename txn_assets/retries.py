"""Retries that fit the failure: transient ones again with backoff, deterministic ones never.

Assets raise `Failure(allow_retries=False)` for a failure that would repeat (a file that breaks
the contract, a missing file, a bug) and let a transient one (txn_core.failures) propagate, so
this policy tries it again: after about 2, 4 and 8 seconds. Run retries (dagster.yaml) re-execute
only runs that died without a step failing, such as a killed run worker.
"""

from dagster import Backoff, Failure, Jitter, RetryPolicy

from txn_core.failures import is_transient

TRANSIENT_RETRIES = RetryPolicy(
    max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)


def attempts_left(retry_number: int) -> bool:
    return retry_number < TRANSIENT_RETRIES.max_retries


def unless_transient(exc: Exception, what: str) -> Exception:
    """What to raise for `exc`: itself when transient (the policy tries again), else a Failure
    that is never retried."""
    if is_transient(exc):
        return exc
    return Failure(f"{what} failed: {type(exc).__name__}: {exc}", allow_retries=False)

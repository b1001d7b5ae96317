"""Python SDK of the AITBC Coordinator.

>>> from aitbc import AITBCClient
>>> client = AITBCClient()            # AITBC_API_KEY, AITBC_URL
>>> job = client.jobs.create(payload={"type": "inference", "prompt": "hello"})
>>> client.jobs.wait(job.job_id).state
'COMPLETED'
"""

import logging

from ._version import __version__
from .async_client import AsyncAITBCClient
from .client import AITBCClient
from .exceptions import (
    AITBCError, AuthenticationError, ConflictError, JobNotReadyError, NotFoundError, PermissionDeniedError,
    RateLimitError, QuotaExceededError, CreditsExhaustedError, ServerError, TransportError, ValidationError, WaitTimeoutError,
)
from . import webhooks
from .receipts import canonical_json, verify_receipt
from .types import (
    APIKey, AssignedJob, JobResult, JobView, KeyUsage, Me, Miner, MinerReleased, Page, RateLimitState, Receipt,
    ReceiptKey, Tenant, UsageBucket,
)
from .usage import UsageReport, UsageRow

# A library logs only when the application configures logging (retries, at DEBUG; never a key).
logging.getLogger("aitbc").addHandler(logging.NullHandler())

__all__ = [
    "__version__", "AITBCClient", "AsyncAITBCClient",
    "AITBCError", "AuthenticationError", "ConflictError", "JobNotReadyError", "NotFoundError", "PermissionDeniedError",
    "RateLimitError", "QuotaExceededError", "CreditsExhaustedError", "ServerError", "TransportError", "ValidationError", "WaitTimeoutError",
    "canonical_json", "verify_receipt",
    "APIKey", "AssignedJob", "JobResult", "JobView", "KeyUsage", "Me", "Miner", "MinerReleased", "Page",
    "RateLimitState", "Receipt", "ReceiptKey", "Tenant", "UsageBucket", "UsageReport", "UsageRow",
]

"""The hook for the gateway's response cache (gateway/response_cache.py). The bench
measures the gateway twice: once "uncached" (started with CACHE_OFF) and once "warm"
(started with CACHE_ON, after one pass over every request). Until a gateway started
with CACHE_ON answers a repeated request with `extensions.<CACHE_EXTENSION> == "hit"`,
the warm rows read "n/a".

The dashboard reads subscription statuses, which depend on the billing clock, so by
default the cache does not keep it (it would be "bypass" forever). The warm gateway is
therefore started with a short clock TTL: such answers are served for at most that many
seconds, and any write still makes the next read miss at once.
"""

from __future__ import annotations

from typing import Final

# Where a dev-mode response says how the cache treated it: "hit", "miss" or "bypass".
CACHE_EXTENSION: Final = "responseCache"
# The environment that turns the cache off / on in the gateway's processes.
CACHE_OFF: Final = {"BILLING_RESPONSE_CACHE": "off"}
CACHE_ON: Final = {"BILLING_RESPONSE_CACHE": "memory", "BILLING_RESPONSE_CACHE_CLOCK_TTL": "30"}
HIT: Final = "hit"

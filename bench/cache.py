"""The hook for the gateway's response cache (issue 11 asks for one; it does not exist
yet). The bench measures the gateway twice when the gateway reports a cache: once
"uncached" (started with CACHE_OFF) and once "warm" (started with CACHE_ON, after one
pass over every request). Until a gateway started with CACHE_ON answers a repeated
request with `extensions.<CACHE_EXTENSION> == "hit"`, the warm rows read "n/a".

Whoever builds the cache: make the names below match it, nothing else in the bench.
"""

from __future__ import annotations

from typing import Final

# Where a dev-mode response says how the cache treated it: "hit", "miss" or "bypass".
CACHE_EXTENSION: Final = "responseCache"
# The environment that turns the cache off / on in the gateway's processes.
CACHE_OFF: Final = {"BILLING_RESPONSE_CACHE": "off"}
CACHE_ON: Final = {"BILLING_RESPONSE_CACHE": "memory"}
HIT: Final = "hit"

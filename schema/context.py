"""What a GraphQL request carries through resolution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from auth.principal import Principal
from loaders import Loaders
from loaders.db import Db
from loaders.reach import Reach


@dataclass
class RequestContext:
    principal: Principal
    reach: Reach
    db: Db
    loaders: Loaders
    request_id: str
    now: datetime
    cursor_secret: bytes
    introspection: bool = True

    @property
    def subject(self) -> str:
        return self.principal.subject

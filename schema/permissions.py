"""Field authorization, declared where each field is defined.

Every field names one rule: PUBLIC (any valid token) or a scope of the token
(docs/scopes.md). `field(rule)`, or `resolver(rule)` on methods, is the only way
fields are made in this package, so the rule is visible beside the field. Which rule
a field must name follows from the domains of schema/domains.py, checked when the
schema is built; tests/test_field_rules.py walks the built schema as well."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar, cast

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from auth import scopes
from resolvers.errors import Forbidden, GatewayError
from schema.context import RequestContext

FORBIDDEN_EXTENSIONS: Final = {"code": "FORBIDDEN"}
F = TypeVar("F", bound=Callable[..., Any])


class Rule(BasePermission):
    """Base of all field rules; `scope` None means any authenticated request."""

    scope: str | None = None
    error_extensions = FORBIDDEN_EXTENSIONS

    def has_permission(self, source: Any, info: Info[RequestContext, None], **kwargs: Any) -> bool:
        return self.scope is None or info.context.principal.has_scope(self.scope)


def _rule(name: str, scope: str | None) -> type[Rule]:
    message = f"This field needs the {scope} scope." if scope else "Not allowed."
    return type(name, (Rule,), {"scope": scope, "message": message})


PUBLIC: Final = _rule("Public", None)
CATALOG: Final = PUBLIC  # the catalog needs only a valid token, like PUBLIC
ACCOUNTS_READ: Final = _rule("AccountsRead", scopes.ACCOUNTS_READ)
SUBSCRIPTIONS_READ: Final = _rule("SubscriptionsRead", scopes.SUBSCRIPTIONS_READ)
SUBSCRIPTIONS_WRITE: Final = _rule("SubscriptionsWrite", scopes.SUBSCRIPTIONS_WRITE)
INVOICES_READ: Final = _rule("InvoicesRead", scopes.INVOICES_READ)
USAGE_READ: Final = _rule("UsageRead", scopes.USAGE_READ)
USAGE_WRITE: Final = _rule("UsageWrite", scopes.USAGE_WRITE)
ENTITLEMENTS_READ: Final = _rule("EntitlementsRead", scopes.ENTITLEMENTS_READ)
ENTITLEMENTS_WRITE: Final = _rule("EntitlementsWrite", scopes.ENTITLEMENTS_WRITE)
WRITE_RULES: Final = frozenset({SUBSCRIPTIONS_WRITE, USAGE_WRITE, ENTITLEMENTS_WRITE})


def field(rule: type[Rule], **kwargs: Any) -> Any:
    """strawberry.field with its authorization rule attached."""
    extension = PermissionExtension(permissions=[rule()], use_directives=False)
    return strawberry.field(extensions=[extension, *kwargs.pop("extensions", [])], **kwargs)


def resolver(rule: type[Rule], **kwargs: Any) -> Callable[[F], F]:
    """`field` as a decorator of a resolver method, keeping its type for mypy."""

    def wrap(fn: F) -> F:
        return cast(F, field(rule, **kwargs)(fn))

    return wrap


class Refusable(Protocol):
    """A mutation payload that can carry a refusal instead of a result."""

    @classmethod
    def refused(cls, error: GatewayError) -> Any: ...


class RefusalPayload(PermissionExtension):
    """A mutation's rule: without the scope, the mutation writes nothing and answers its
    payload carrying FORBIDDEN. Nulling the field instead would null `data` (mutation
    payloads are non-null) and hide the results of sibling mutations that did run."""

    def __init__(self, rule: type[Rule], payload: type[Refusable]) -> None:
        super().__init__(permissions=[rule()], use_directives=False)
        self.payload = payload

    def _on_unauthorized(self, permission: BasePermission) -> Any:
        return self.payload.refused(Forbidden(permission.message or "Forbidden."))


def mutation(rule: type[Rule], payload: type[Refusable], **kwargs: Any) -> Callable[[F], F]:
    """A mutation with its write rule declared beside it, like `resolver`."""

    def wrap(fn: F) -> F:
        made = strawberry.mutation(extensions=[RefusalPayload(rule, payload)], **kwargs)(fn)
        return cast(F, made)

    return wrap


def rule_of(extensions: list[Any]) -> type[Rule] | None:
    """The rule a field declares, for the schema walk test."""
    for ext in extensions:
        if isinstance(ext, PermissionExtension):
            for perm in ext.permissions:
                if isinstance(perm, Rule):
                    return type(perm)
    return None

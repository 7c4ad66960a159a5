"""Per-request schema rules that depend on who is asking."""

from __future__ import annotations

from collections.abc import Iterator

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from schema.context import RequestContext


class IntrospectionByContext(SchemaExtension):
    """Introspection only where the request context allows it (in prod: admins).

    The rule joins the validation rules, which are part of ValidationCache's key,
    so one caller's cached validation never serves another's."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, RequestContext) and not context.introspection:
            rules = self.execution_context.validation_rules
            self.execution_context.validation_rules = (*rules, NoSchemaIntrospectionCustomRule)
        yield

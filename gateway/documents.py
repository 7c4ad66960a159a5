"""Parsing, operation selection and validation of GraphQL documents, with bounded
caches that actually hit: the rule lists are built once, and the validation
cache is keyed by the document's text and the two switches that change rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Final

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from gateway import limits
from gateway.limits import Limits

CACHE_SIZE: Final = 512
TOKENS_MARKER: Final = "tokens. Parsing aborted."
RULES: Final = (*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule)
RULES_WITHOUT_INTROSPECTION: Final = (*RULES, NoSchemaIntrospectionCustomRule)


class Documents:
    def __init__(self, schema: GraphQLSchema, limits: Limits, cache_size: int = CACHE_SIZE) -> None:
        self.schema = schema
        self.limits = limits
        self.parse: Callable[[str], DocumentNode] = lru_cache(maxsize=cache_size)(self._parse)
        self._validate = lru_cache(maxsize=cache_size)(self._validate_uncached)
        # Walking a document for its size costs as much as a response-cache hit's SQL.
        self.refusal: Callable[[str], str | None] = lru_cache(maxsize=cache_size)(self._refusal)

    def _parse(self, query: str) -> DocumentNode:
        """Raises GraphQLError (a syntax error, or more tokens than allowed)."""
        return parse(query, max_tokens=self.limits.max_tokens)

    def _refusal(self, query: str) -> str | None:
        """Why the parsed `query` is too large to validate (gateway/limits.py), or None."""
        return limits.refusal(self.parse(query), self.limits)

    def validate(self, query: str, *, introspection: bool) -> tuple[GraphQLError, ...]:
        """Suggestions ("Did you mean …?") are never shown: they map the schema."""
        return self._validate(query, introspection)

    def validation_hits(self) -> int:
        return self._validate.cache_info().hits

    def validations(self) -> int:
        """Documents validated (cache misses): each ran every validation rule."""
        return self._validate.cache_info().misses

    def _validate_uncached(self, query: str, introspection: bool) -> tuple[GraphQLError, ...]:
        rules = RULES if introspection else RULES_WITHOUT_INTROSPECTION
        errors = validate(
            self.schema,
            self.parse(query),
            rules,
            max_errors=self.limits.max_errors,
            hide_suggestions=True,
        )
        return tuple(errors[: self.limits.max_errors])


def is_token_limit(error: GraphQLError) -> bool:
    return TOKENS_MARKER in error.message


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | str:
    """The operation to run, or why there is none (the spec refuses to guess)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            return "The document contains no operation."
        return "The document contains several operations: name one with operationName."
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return f'The document has no operation named "{operation_name}".'

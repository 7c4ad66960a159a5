"""The GraphQL endpoint, in the order that keeps it cheap to refuse:

1. the whole body, size-capped and with a read deadline (chunked included);
2. the token (401 without data) — nothing runs for a GET without one either;
3. the parameters, the persisted query, the document's static limits, its
   validation (cached) and its cost, then the subject's rate-limit bucket;
4. only then the database: the request's reach (one statement for a partner), the
   response cache's stamp (one statement, when the cache is on) and the execution,
   under the request deadline. A cache hit pays its cost like a miss.

A refusal at any step runs no SQL. Every response is JSON with a contract code,
carries the request id and (once a token was verified) the cost, and leaves one
log line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

import asyncpg
import strawberry
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from auth.principal import Principal, Role
from auth.tokens import TokenError, TokenVerifier
from gateway import cost, graphiql, limits, metrics, tracing, transport
from gateway import response_cache as rc
from gateway.clock import Clock
from gateway.documents import Documents, is_token_limit, select_operation
from gateway.errors import (
    DATABASE_DOWN,
    TIMED_OUT,
    UNAVAILABLE,
    UNEXPECTED,
    Classified,
    classify_exception,
    error_body,
    format_error,
)
from gateway.executor import Executed, Executor, Operation
from gateway.logs import RequestLine
from gateway.middleware import request_id
from gateway.persisted import PersistedQueries, PersistedQueryError, Resolved
from gateway.ratelimit import Buckets, ThrottleStatus, bucket_key
from gateway.settings import Settings
from gateway.transport import Params, TransportError
from loaders import Loaders
from loaders.catalog import CatalogCache
from loaders.db import Db
from loaders.reach import PARTNER_ACCOUNTS, Reach
from schema.context import ClockWatch, RequestContext, WatchedContext

BEARER = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
UNAUTHENTICATED_MESSAGE = "Missing or invalid access token."


@dataclass
class Services:
    """What the gate uses, made once by the app's lifespan."""

    pool: asyncpg.Pool
    verifier: TokenVerifier
    buckets: Buckets
    persisted: PersistedQueries
    documents: Documents
    catalog: CatalogCache | None = None
    cache: rc.ResponseCache | None = None


@dataclass
class Probe:
    """One query's pass through the response cache."""

    cache: rc.ResponseCache
    query: str
    key: str = ""
    stamp: str = ""
    hit: rc.Entry | None = None
    watch: ClockWatch = field(default_factory=ClockWatch)


class Refused(Exception):
    """Ends a request with one error and no data."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extensions = extensions


@dataclass
class Call:
    """One GraphQL call after its token was verified."""

    request: Request
    principal: Principal
    params: Params
    media: str
    line: RequestLine
    now: datetime  # the request's one reading of the billing clock

    @property
    def bucket(self) -> str:
        return bucket_key(self.principal)


class GraphQLGate:
    def __init__(self, settings: Settings, clock: Clock, schema: strawberry.Schema) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.clock = clock
        self.schema = schema
        self.executor = Executor(schema, settings.executor)
        self.costs = cost.RequestedCosts(schema._schema)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request = Request(scope, receive)
        line = RequestLine(request_id(scope), request.method)
        services: Services = scope["app"].state.services
        with tracing.span("graphql.request", **{"billing.request_id": line.request_id}) as span:
            response = await self._respond(request, services, line)
            line.status = response.status_code
            await response(scope, receive, send)
            _annotate(span, line)
        elapsed = time.perf_counter() - started
        line.emit(elapsed * 1000)
        operation = metrics.operation_label(line.operation)
        metrics.REQUESTS.labels(operation=operation, outcome=line.outcome).inc()
        metrics.LATENCY.labels(operation=operation).observe(elapsed)

    async def _respond(self, request: Request, services: Services, line: RequestLine) -> Response:
        accept = request.headers.get("accept")
        media = transport.JSON
        try:
            if request.method == "GET" and self._wants_page(request, accept):
                return await self._graphiql(request, services)
            media = transport.response_type(accept)
            call = await self._call(request, services, media, line)
            return await self._graphql(call, services)
        except TransportError as exc:
            refused = Refused(exc.status, exc.code, exc.message, exc.headers)
            return self._refusal(refused, media, line)
        except Refused as refused:
            return self._refusal(refused, media, line)
        except Exception as exc:  # a bug of ours: masked, logged with its traceback
            line.error = exc
            return self._refusal(Refused(500, "INTERNAL_SERVER_ERROR", UNEXPECTED), media, line)

    def _wants_page(self, request: Request, accept: str | None) -> bool:
        return "query" not in request.query_params and transport.accepts_html(accept)

    async def _graphiql(self, request: Request, services: Services) -> Response:
        if not self.settings.dev:
            raise TransportError(404, "Not found.", "NOT_FOUND")
        account = await _demo_account(request, services.pool, self.settings.timeouts.ready)
        token = graphiql.demo_token(self.settings.jwt_secret, account)
        return graphiql.page(token, self.clock.now())

    async def _call(
        self, request: Request, services: Services, media: str, line: RequestLine
    ) -> Call:
        if len(request.headers.getlist("authorization")) > 1:
            raise TransportError(400, "Send one Authorization header.")
        body = await self._body(request) if request.method == "POST" else b""
        principal = await self._verify(request, services.verifier, line)
        if request.method == "POST":
            params = transport.params_from_body(request.headers.get("content-type"), body)
        else:
            params = transport.params_from_query_string(request.query_params)
        return Call(request, principal, params, media, line, self.clock.now())

    async def _body(self, request: Request) -> bytes:
        transport.check_length(request.headers.get("content-length"), self.limits.max_body_bytes)
        limit, deadline = self.limits.max_body_bytes, self.settings.timeouts.body
        return await transport.read_body(request.receive, limit, deadline)

    async def _verify(
        self, request: Request, verifier: TokenVerifier, line: RequestLine
    ) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        try:
            if len(header) > self.limits.max_auth_bytes + len("Bearer "):
                raise TokenError("authorization header too large")
            if scheme.lower() != "bearer" or not token:
                raise TokenError("no bearer token")
            principal = await verifier.averify(token.strip())
        except TokenError as exc:
            line.reason = exc.reason
            metrics.AUTH_FAILURES.labels(reason=exc.reason.split(" ")[0]).inc()
            raise Refused(401, "UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE, BEARER) from None
        line.subject, line.role = principal.subject, str(principal.role)
        return principal

    async def _graphql(self, call: Call, services: Services) -> Response:
        resolved, document, operation = await self._document(call, services)
        requested = self.costs.of(resolved.query, document, operation, call.params.variables)
        call.line.requested_cost = requested
        if requested > self.limits.max_cost:
            await self._request_error(
                call,
                services,
                "QUERY_TOO_COMPLEX",
                f"The query costs {requested}, more than the {self.limits.max_cost} allowed.",
                requested,
            )
        decision = await services.buckets.take(call.bucket, requested)
        if not decision.allowed:
            retry = max(1, int(decision.retry_after + 0.999))
            raise Refused(
                429,
                "RATE_LIMITED",
                f"Too many requests: retry in {retry} s.",
                {"Retry-After": str(retry)},
                retryAfter=retry,
                cost=_cost(requested, 0, decision.status),
            )
        await services.persisted.register(resolved)
        probe = _probe(call, services, operation, resolved.query)
        try:
            executed, statements = await self._execute(
                call, services, document, resolved.query, probe
            )
            if executed is None:  # a cache hit
                assert probe is not None
                assert probe.hit is not None
                return await self._hit(call, services, probe.hit, statements)
            return await self._result(
                call, services, document, operation, executed, statements, probe
            )
        except Refused as failed:  # the database failed us: the caller pays nothing
            throttle = await services.buckets.refund(call.bucket, requested)
            failed.extensions["cost"] = _cost(requested, 0, throttle)
            raise

    async def _document(
        self, call: Call, services: Services
    ) -> tuple[Resolved, DocumentNode, OperationDefinitionNode]:
        if call.params.query is None and "persistedQuery" not in (call.params.extensions or {}):
            raise TransportError(400, "The request has no query.")
        try:
            resolved = await services.persisted.resolve(call.params.query, call.params.extensions)
        except PersistedQueryError as exc:
            await self._request_error(call, services, exc.code, str(exc))
        if reason := limits.too_long(resolved.query, self.limits):
            await self._request_error(call, services, "QUERY_TOO_COMPLEX", reason)
        try:
            document = services.documents.parse(resolved.query)
        except GraphQLError as exc:
            code = "QUERY_TOO_COMPLEX" if is_token_limit(exc) else "GRAPHQL_PARSE_FAILED"
            await self._request_errors(call, services, [exc], code)
        operation = self._operation(call, document)
        if reason := services.documents.refusal(resolved.query):
            await self._request_error(call, services, "QUERY_TOO_COMPLEX", reason)
        introspection = self.settings.dev or call.principal.role is Role.ADMIN
        errors = services.documents.validate(resolved.query, introspection=introspection)
        if errors:
            await self._request_errors(call, services, list(errors), "GRAPHQL_VALIDATION_FAILED")
        return resolved, document, operation

    def _operation(self, call: Call, document: DocumentNode) -> OperationDefinitionNode:
        operation = select_operation(document, call.params.operation_name)
        if isinstance(operation, str):
            raise Refused(
                transport.request_error_status(call.media), "GRAPHQL_VALIDATION_FAILED", operation
            )
        call.line.operation = operation.name.value if operation.name else None
        if operation.operation is not OperationType.QUERY and call.request.method == "GET":
            raise Refused(
                405, "BAD_USER_INPUT", "Mutations are only accepted over POST.", {"Allow": "POST"}
            )
        return operation

    async def _execute(
        self,
        call: Call,
        services: Services,
        document: DocumentNode,
        query: str,
        probe: Probe | None,
    ) -> tuple[Executed | None, int]:
        """The execution's result, or None for a cache hit (in `probe.hit`)."""
        timeouts = self.settings.timeouts
        db = self._db(services)
        broken = True
        try:
            async with asyncio.timeout(timeouts.request) as deadline:
                executed = await self._run(call, services, db, document, query, probe)
            broken = executed is not None and any(
                _database_failed(e) for e in executed.result.errors or ()
            )
            return executed, db.statements
        except TimeoutError:
            if deadline.expired():
                raise Refused(504, "TIMEOUT", TIMED_OUT) from None
            raise Refused(503, "SERVICE_UNAVAILABLE", UNAVAILABLE) from None
        except DATABASE_DOWN as exc:
            call.line.reason = f"{type(exc).__name__}: {exc}"
            raise Refused(503, "SERVICE_UNAVAILABLE", UNAVAILABLE) from None
        finally:
            call.line.sql_statements = db.statements
            await _close(db, broken)
            _observe(services.pool, db)

    def _db(self, services: Services) -> Db:
        timeouts = self.settings.timeouts
        return Db(services.pool, timeout=timeouts.statement + 1, acquire_timeout=timeouts.acquire)

    async def _run(
        self,
        call: Call,
        services: Services,
        db: Db,
        document: DocumentNode,
        query: str,
        probe: Probe | None,
    ) -> Executed | None:
        with tracing.span("graphql.execute"):
            reach = await reach_of(call.principal, db)
            if probe is not None and await self._look(call, services, db, reach, query, probe):
                return None
            watch = ClockWatch() if probe is None else probe.watch
            params = call.params
            operation = Operation(
                query,
                document,
                params.operation_name,
                params.variables,
                params.extensions,
                call.principal.scopes,
            )

            @asynccontextmanager
            async def twin() -> AsyncIterator[RequestContext]:
                other = self._db(services)
                try:
                    yield self._context(call, services, other, reach, watch)
                finally:
                    await other.close()

            context = self._context(call, services, db, reach, watch)
            return await self.executor.run(operation, context, twin)

    async def _look(
        self, call: Call, services: Services, db: Db, reach: Reach, query: str, probe: Probe
    ) -> bool:
        """Read the stamp (before any execution: see gateway/response_cache.py) and
        look the answer up; True on a hit. A miss then runs on a catalog at least as
        new as the stamp's."""
        params = call.params
        probe.key = rc.cache_key(
            query, params.operation_name, params.variables, call.principal, reach, self.settings.dev
        )
        probe.stamp = await rc.read_stamp(db, reach)
        if services.catalog is not None:
            services.catalog.require(rc.catalog_version(probe.stamp))
        probe.hit = await probe.cache.lookup(probe.key, probe.stamp, call.now)
        return probe.hit is not None

    def _context(
        self, call: Call, services: Services, db: Db, reach: Reach, watch: ClockWatch
    ) -> RequestContext:
        return WatchedContext.watching(
            watch,
            principal=call.principal,
            reach=reach,
            db=db,
            loaders=Loaders(db, reach, services.catalog),
            request_id=call.line.request_id,
            now=call.now,
            cursor_secret=self.settings.cursor_secret,
            introspection=self.settings.dev or call.principal.role is Role.ADMIN,
        )

    async def _result(
        self,
        call: Call,
        services: Services,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        executed: Executed,
        statements: int,
        probe: Probe | None = None,
    ) -> Response:
        result = executed.result
        errors, found = self._errors(call, result.errors or [])
        for classified in found:
            if classified.code in ("SERVICE_UNAVAILABLE", "TIMEOUT"):
                call.line.reason = f"{type(classified.internal).__name__}: {classified.internal}"
                status = 503 if classified.code == "SERVICE_UNAVAILABLE" else 504
                raise Refused(status, classified.code, classified.message)
        spent = executed.cost
        if spent is None:
            spent = cost.actual(self.schema._schema, document, operation, result.data)
        spent_cost = await _settle(call, services, spent)
        body: dict[str, Any] = {}
        request_error = result.data is None and all(not e.path for e in result.errors or ())
        if not request_error:
            body["data"] = result.data
        if errors:
            body["errors"] = errors
        if probe is not None and not errors and result.data is not None:
            data = transport.encode(result.data)
            entry = rc.Entry(probe.stamp, data, spent)
            kept = await probe.cache.store(
                probe.query, probe.key, entry, probe.watch.read, call.now
            )
            _outcome(call, rc.MISS if kept else rc.BYPASS)
            return self._spliced(call, data, spent_cost, statements)
        if probe is not None:
            _outcome(call, rc.BYPASS)
        body["extensions"] = self._extensions(call, spent_cost, statements)
        status = transport.request_error_status(call.media) if request_error else 200
        return _json(status, body, call.media)

    async def _hit(
        self, call: Call, services: Services, entry: rc.Entry, statements: int
    ) -> Response:
        """The stored answer, its cost paid as the miss paid it."""
        spent = await _settle(call, services, entry.cost)
        _outcome(call, rc.HIT)
        return self._spliced(call, entry.data, spent, statements)

    def _spliced(self, call: Call, data: bytes, spent: dict[str, Any], statements: int) -> Response:
        """`{"data": …, "extensions": …}` around data already encoded: the bytes a hit
        answers are the miss's, but for the extensions, which are this request's."""
        extensions = transport.encode(self._extensions(call, spent, statements))
        body = b'{"data":' + data + b',"extensions":' + extensions + b"}"
        return Response(body, status_code=200, media_type=f"{call.media}; charset=utf-8")

    def _errors(
        self, call: Call, errors: list[GraphQLError]
    ) -> tuple[list[dict[str, Any]], list[Classified]]:
        formatted, found = [], []
        for error in errors:
            out, classified = format_error(error, call.line.request_id)
            formatted.append(out)
            found.append(classified)
        if found:
            first = found[0]
            call.line.outcome = first.code
            internal = [c for c in found if c.code == "INTERNAL_SERVER_ERROR"]
            if internal:
                call.line.outcome = "INTERNAL_SERVER_ERROR"
                call.line.error = internal[0].internal
        return formatted, found

    def _extensions(self, call: Call, spent: dict[str, Any], statements: int) -> dict[str, Any]:
        extensions: dict[str, Any] = {"requestId": call.line.request_id, "cost": spent}
        if self.settings.dev:
            extensions["sqlStatements"] = statements
            if call.line.cache is not None:
                extensions["responseCache"] = call.line.cache
        return extensions

    async def _request_error(
        self, call: Call, services: Services, code: str, message: str, requested: int = 0
    ) -> NoReturn:
        await self._request_errors(call, services, [GraphQLError(message)], code, requested)

    async def _request_errors(
        self,
        call: Call,
        services: Services,
        errors: list[GraphQLError],
        code: str,
        requested: int = 0,
    ) -> NoReturn:
        """Refuse with these errors (the operation does not run) and the cost so far."""
        rid = call.line.request_id
        decision = await services.buckets.take(call.bucket, 0)
        body = {
            "errors": [_with_code(*format_error(e, rid), code) for e in errors],
            "extensions": self._extensions(call, _cost(requested, 0, decision.status), 0),
        }
        raise _Answered(transport.request_error_status(call.media), body, code, call.media)

    def _refusal(self, refused: Refused, media: str, line: RequestLine) -> Response:
        line.outcome = refused.code
        if isinstance(refused, _Answered):
            return _json(refused.status, refused.body, refused.media)
        extensions = dict(refused.extensions)
        spent = extensions.pop("cost", None)
        body = error_body(refused.code, refused.message, line.request_id, **extensions)
        if spent is not None:
            body["extensions"] = {"requestId": line.request_id, "cost": spent}
        return _json(refused.status, body, media, refused.headers)


class _Answered(Refused):
    """A request error whose body is already built (several errors, cost)."""

    def __init__(self, status: int, body: dict[str, Any], code: str, media: str) -> None:
        super().__init__(status, code, code)
        self.body = body
        self.media = media


def _probe(
    call: Call, services: Services, operation: OperationDefinitionNode, query: str
) -> Probe | None:
    """Queries only (a mutation writes, a subscription is not a single answer), and not
    one known to read the clock when such answers are not kept."""
    if services.cache is None:
        return None
    if operation.operation is not OperationType.QUERY or services.cache.skips(query):
        _outcome(call, rc.BYPASS)
        return None
    return Probe(services.cache, query)


def _outcome(call: Call, outcome: str) -> None:
    call.line.cache = outcome
    metrics.RESPONSE_CACHE.labels(result=outcome).inc()


async def _settle(call: Call, services: Services, spent: int) -> dict[str, Any]:
    """Refund what the request was charged beyond the cost it actually had (a miss's
    count, or the one a hit stored); the response's `extensions.cost`."""
    requested = call.line.requested_cost or 0
    call.line.actual_cost = spent
    throttle = await services.buckets.refund(call.bucket, max(requested - spent, 0))
    metrics.QUERY_COST.observe(requested)
    return _cost(requested, spent, throttle)


async def reach_of(principal: Principal, db: Db) -> Reach:
    if principal.role is Role.ADMIN:
        return Reach.all()
    if principal.role is Role.PARTNER:
        rows = await db.fetch(PARTNER_ACCOUNTS, principal.partner)
        return Reach.only([r["id"] for r in rows])
    return Reach.only(list(principal.accounts))


def _annotate(span: Any, line: RequestLine) -> None:
    if span is None:
        return
    attributes = {
        "graphql.operation.name": line.operation,
        "billing.subject": line.subject,
        "billing.cost.requested": line.requested_cost,
        "billing.cost.actual": line.actual_cost,
        "billing.sql_statements": line.sql_statements,
        "billing.outcome": line.outcome,
        "http.response.status_code": line.status,
    }
    for key, value in attributes.items():
        if value is not None:
            span.set_attribute(key, value)


def _cost(requested: int, spent: int, throttle: ThrottleStatus) -> dict[str, Any]:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": spent,
        "throttleStatus": throttle.as_dict(),
    }


def _with_code(error: dict[str, Any], found: Classified, code: str) -> dict[str, Any]:
    """The request error's code, unless the error is the input's own (a scalar refusing
    a literal is BAD_USER_INPUT, as it is in a variable)."""
    if found.code != "BAD_USER_INPUT":
        error["extensions"]["code"] = code
    return error


def _database_failed(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and classify_exception(original).code != "INTERNAL_SERVER_ERROR"


async def _close(db: Db, broken: bool) -> None:
    try:
        await db.close(broken=broken)
    except (*DATABASE_DOWN, asyncpg.PostgresError):
        await db.close(broken=True)


def _observe(pool: asyncpg.Pool, db: Db) -> None:
    metrics.STATEMENTS.observe(db.statements)
    for loader, keys in db.batches:
        metrics.BATCH_SIZES.labels(loader=loader).observe(keys)
    metrics.observe_pool(pool.get_size(), pool.get_idle_size())


async def _demo_account(request: Request, pool: asyncpg.Pool, within: float) -> str | None:
    """The demo account's id, read once; None while the database cannot say."""
    cached: str | None = getattr(request.app.state, "demo_account", None)
    if cached is None:
        try:
            async with asyncio.timeout(within):
                value = await pool.fetchval(graphiql.DEMO_ACCOUNT)
        except (*DATABASE_DOWN, asyncpg.PostgresError):
            return None
        cached = None if value is None else str(value)
        request.app.state.demo_account = cached
    return cached


def _json(
    status: int, body: dict[str, Any], media: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        transport.encode(body),
        status_code=status,
        media_type=f"{media}; charset=utf-8",
        headers=headers,
    )

// Runs graphql-http's serverAudits (GraphQL over HTTP) against a running gateway and
// prints one JSON array of {id, name, status, reason}. Every request carries the
// bearer token from AUDIT_TOKEN: the gateway runs nothing without one.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const token = process.env.AUDIT_TOKEN;

function fetchWithToken(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = [];
for (const audit of serverAudits({ url, fetchFn: fetchWithToken })) {
  const result = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));

"""The GraphQL documents the bench sends, as the dashboard and partners send them."""

from __future__ import annotations

from typing import Final

# An account, its subscriptions with plan and add-ons, its 20 newest invoices with
# their lines: the dashboard's first screen (~10 KB).
CORE_FIELDS: Final = """
    id name currency partner { name }
    subscriptions(first: 10) {
      totalCount
      nodes { id status quantity currentPeriodEnd cancelAtPeriodEnd
              plan { code name price { amount currency } }
              items { quantity plan { code price { amount } } } }
    }
    invoices(first: 20) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id number status issuedAt total { amount currency } amountDue { amount }
              lines(first: 100) { nodes { kind description quantity
                                          unitAmount { amount } amount { amount } meter { key } } } }
    }"""

# The rest of the dashboard: what the account may use, what it will pay, its usage.
FULL_FIELDS: Final = """
    entitlements { feature { key kind } enabled limit used remaining resetsAt source }
    upcomingInvoice { periodEnd lines { kind description amount { amount } }
                      subtotal { amount } tax { amount } total { amount } }
    usage(meter: "requests", from: $from, to: $to, granularity: DAY) { total points { start quantity } }"""

CORE: Final = f"""query DashboardCore($id: ID!) {{
  account(id: $id) {{{CORE_FIELDS}
  }}
}}"""

FULL: Final = f"""query Dashboard($id: ID!, $from: DateTime!, $to: DateTime!) {{
  account(id: $id) {{{CORE_FIELDS}{FULL_FIELDS}
  }}
}}"""

# A partner integration's sync: 50 accounts with their subscriptions and invoices.
PARTNER: Final = """query Accounts($first: Int!) {
  accounts(first: $first) {
    nodes { id name
      subscriptions(first: 5) { totalCount nodes { status plan { code } items { plan { code } } } }
      invoices(first: 5) { totalCount nodes { number total { amount }
                           lines(first: 10) { totalCount nodes { amount { amount } } } } }
    }
  }
}"""

USAGE: Final = """query Usage($id: ID!, $from: DateTime!, $to: DateTime!, $g: UsageGranularity) {
  account(id: $id) {
    usage(meter: "requests", from: $from, to: $to, granularity: $g) {
      from to total points { start quantity }
    }
  }
}"""

"""The demo organisation: teams, people and a catalog with a shared database.

Order-to-Cash and Banking WebApp run their own systems but depend on each
other and on the platform team's core database, so a failure there cascades
across both (hard dependencies) while soft dependencies only degrade.
"""

from __future__ import annotations

TEAMS = [
    ("order-to-cash", "Order-to-Cash", "Orders, invoicing, payments and the ledger.",
     {"email": "o2c@example.com", "chat": "#order-to-cash"}),
    ("banking-webapp", "Banking WebApp", "The customer-facing online banking application.",
     {"email": "banking-web@example.com", "chat": "#banking-webapp"}),
    ("platform", "Platform", "Databases, messaging, caches and the web tier.",
     {"email": "platform@example.com", "chat": "#platform"}),
    ("identity", "Identity", "Sign-in, sessions and customer identity.",
     {"email": "identity@example.com", "chat": "#identity"}),
    ("customer-experience", "Customer Experience", "Notifications, search and support tools.",
     {"email": "cx@example.com", "chat": "#customer-experience"}),
]

# username, display name, role, teams
USERS = [
    ("admin", "Ada Admin", "admin", []),
    ("alice", "Alice Ortega", "member", ["order-to-cash"]),
    ("bob", "Bob Banerjee", "member", ["banking-webapp"]),
    ("carol", "Carol Chen", "member", ["platform"]),
    ("dan", "Dan Idowu", "member", ["identity", "customer-experience"]),
    ("viewer", "Vera Viewer", "viewer", []),
    # Each team has three people on its weekly on-call rotation (``ONCALL``).
    ("erin", "Erin Eriksen", "member", ["order-to-cash", "banking-webapp"]),
    ("frank", "Frank Fontaine", "member", ["platform", "order-to-cash"]),
    ("grace", "Grace Greenberg", "member", ["banking-webapp", "platform"]),
    ("heidi", "Heidi Haddad", "member", ["identity", "customer-experience"]),
    ("ivan", "Ivan Ilić", "member", ["identity", "customer-experience"]),
]

# The on-call of each team: a weekly rotation of its three people (Monday 09:00 in
# Amsterdam), paged first, then Ada Admin, the duty manager; the policy repeats once.
ONCALL_ZONE = "Europe/Amsterdam"
ONCALL_MANAGER = "admin"
ONCALL: dict[str, tuple[str, ...]] = {
    "order-to-cash": ("alice", "erin", "frank"),
    "banking-webapp": ("bob", "grace", "erin"),
    "platform": ("carol", "frank", "grace"),
    "identity": ("dan", "heidi", "ivan"),
    "customer-experience": ("heidi", "ivan", "dan"),
}
ONCALL_TIMEOUTS = (5, 10)  # minutes: the rotation, then the duty manager

# name, kind, tier, owner, description, extra fields
SERVICES: list[tuple[str, str, int, str, str, dict[str, object]]] = [
    # business services
    ("online-banking", "business_service", 1, "banking-webapp",
     "Customers check balances, move money and download statements.", {}),
    ("order-to-cash-process", "business_service", 1, "order-to-cash",
     "From a customer's order to cash in the bank: ordering, invoicing, collection.", {}),
    ("customer-payments", "business_service", 1, "order-to-cash",
     "Card and bank payments taken from customers.", {}),
    ("customer-support", "business_service", 2, "customer-experience",
     "Support agents answer customers by mail and chat.", {}),
    # systems
    ("banking-portal", "system", 1, "banking-webapp", "The online banking system.", {}),
    ("erp", "system", 1, "order-to-cash", "Order management and finance system.", {}),
    # banking webapp
    ("banking-web", "service", 1, "banking-webapp", "Web front end of online banking.", {}),
    ("accounts-api", "api", 1, "banking-webapp", "REST API for accounts and balances.", {}),
    ("accounts-service", "service", 1, "banking-webapp", "Accounts and balances.", {}),
    ("transfers-service", "service", 1, "banking-webapp", "Transfers between accounts.", {}),
    ("statements-service", "service", 3, "banking-webapp", "Monthly statements as PDF.", {}),
    # order-to-cash
    ("orders-service", "service", 1, "order-to-cash", "Takes and tracks orders.", {}),
    ("invoicing-service", "service", 2, "order-to-cash", "Creates and sends invoices.", {}),
    ("billing-api", "api", 2, "order-to-cash", "Invoices and payment status for other teams.", {}),
    ("payments-gateway", "service", 1, "order-to-cash", "Card and bank payment processing.", {}),
    ("ledger-service", "service", 1, "order-to-cash", "Double-entry general ledger.", {}),
    ("credit-check", "service", 3, "order-to-cash", "Customer credit scoring.", {}),
    # identity
    ("auth-service", "service", 1, "identity", "Sign-in and tokens.", {}),
    ("identity-api", "api", 1, "identity", "OpenID Connect and user profile API.", {}),
    ("sso-portal", "service", 2, "identity", "Single sign-on pages.", {}),
    # customer experience
    ("notification-service", "service", 3, "customer-experience", "E-mail and SMS sending.", {}),
    ("support-desk", "service", 2, "customer-experience", "The agents' support tool.", {}),
    ("search-service", "service", 3, "customer-experience", "Help-centre search.", {}),
    # platform resources
    ("core-db", "resource", 1, "platform", "PostgreSQL primary shared by accounts and orders.",
     {"links": [{"url": "https://runbooks.example.com/core-db", "title": "Runbook",
                 "type": "runbook"}]}),
    ("ledger-db", "resource", 1, "platform", "PostgreSQL for the ledger.", {}),
    ("kafka", "resource", 2, "platform", "Event streaming cluster.", {}),
    ("redis-cache", "resource", 2, "platform", "Session and page cache.", {}),
    ("smtp-relay", "resource", 3, "platform", "Outbound mail relay.", {}),
    ("object-storage", "resource", 3, "platform", "S3-compatible object storage.", {}),
    ("web-pool", "pool", 1, "platform", "Load-balanced web nodes; needs 2 of 3 up.",
     {"min_up": 2}),
    ("web-node-1", "resource", 2, "platform", "Web node in zone a.", {}),
    ("web-node-2", "resource", 2, "platform", "Web node in zone b.", {}),
    ("web-node-3", "resource", 2, "platform", "Web node in zone c.", {}),
]

# dependant, dependency, type
DEPENDENCIES = [
    ("online-banking", "banking-portal", "hard"),
    ("banking-portal", "banking-web", "hard"),
    ("banking-portal", "statements-service", "soft"),
    ("banking-web", "web-pool", "hard"),
    ("banking-web", "accounts-api", "hard"),
    ("banking-web", "identity-api", "hard"),
    ("banking-web", "billing-api", "soft"),
    ("banking-web", "redis-cache", "soft"),
    ("accounts-api", "accounts-service", "hard"),
    ("accounts-service", "core-db", "hard"),
    ("accounts-service", "kafka", "soft"),
    ("transfers-service", "accounts-service", "hard"),
    ("transfers-service", "payments-gateway", "hard"),
    ("banking-portal", "transfers-service", "hard"),
    ("statements-service", "object-storage", "hard"),
    ("statements-service", "ledger-service", "soft"),
    ("order-to-cash-process", "erp", "hard"),
    ("customer-payments", "payments-gateway", "hard"),
    ("erp", "orders-service", "hard"),
    ("erp", "invoicing-service", "hard"),
    ("erp", "credit-check", "soft"),
    ("orders-service", "core-db", "hard"),
    ("orders-service", "identity-api", "hard"),
    ("orders-service", "kafka", "soft"),
    ("orders-service", "accounts-api", "soft"),
    ("invoicing-service", "billing-api", "hard"),
    ("invoicing-service", "notification-service", "soft"),
    ("billing-api", "ledger-service", "hard"),
    ("payments-gateway", "ledger-service", "hard"),
    ("payments-gateway", "redis-cache", "soft"),
    ("ledger-service", "ledger-db", "hard"),
    ("ledger-service", "kafka", "soft"),
    ("identity-api", "auth-service", "hard"),
    ("auth-service", "core-db", "hard"),
    ("auth-service", "redis-cache", "soft"),
    ("sso-portal", "auth-service", "hard"),
    ("sso-portal", "web-pool", "hard"),
    ("customer-support", "support-desk", "hard"),
    ("support-desk", "identity-api", "hard"),
    ("support-desk", "search-service", "soft"),
    ("support-desk", "notification-service", "soft"),
    ("notification-service", "smtp-relay", "hard"),
    ("search-service", "object-storage", "soft"),
    ("web-pool", "web-node-1", "hard"),
    ("web-pool", "web-node-2", "hard"),
    ("web-pool", "web-node-3", "hard"),
]

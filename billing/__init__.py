"""Money: plans, subscriptions, the ledger, notifications (BILLING-SPEC).

``money``, ``periods`` and ``rules`` are pure; ``models`` and ``migrations`` are the
store; ``service`` and ``views`` are the commands and reads the CLI and the HTTP API
share; ``posting`` and ``delivery`` are the jobs of the ``billing`` worker role.
"""

"""Change use cases: records, approvals, the state machine and deployments.

Each checks rights, changes records and writes its audit entry in one transaction.
"""

"""Catalog use cases: teams, services, dependencies and Backstage imports.

Each checks rights, changes the catalog and writes its audit entry in one transaction.
"""

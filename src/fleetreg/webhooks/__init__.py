"""Webhooks (docs/api.md §5): endpoints, Standard Webhooks signatures, and the delivery task every
``fleetreg serve`` process runs."""

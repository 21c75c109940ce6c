"""Change events (docs/api.md §5): the feed read from the outbox that migration 0006's triggers write,
its long poll and stream, webhooks, and retention."""

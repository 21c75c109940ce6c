"""Device associations: which device sat on which vehicle, when (docs/api.md §3 and §6)."""

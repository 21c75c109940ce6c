"""Device associations: which device sat on which vehicle, when (API.md §3 and §6)."""

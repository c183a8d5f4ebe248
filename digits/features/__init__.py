"""Optional features, each turned on by a setting and attached to the app (and to the
reading routes' blueprint) only then: keys, ratelimit, cors, metrics, fetch."""

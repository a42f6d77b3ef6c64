"""Search: a query language, full-text ranking in the store, and typo-tolerant fallback on names and titles."""

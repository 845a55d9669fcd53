"""Optional bridges to other tools; each imports its tool lazily and is never a hard dependency."""

"""One trial: load → prune → transfer → train → evaluate → record."""

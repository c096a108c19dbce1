"""Order service: the Order aggregate, its lifecycle and the order read model."""

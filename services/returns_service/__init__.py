"""Returns service: RMAs for shipped units, their receipts and the refunds paid for them."""

"""Shopee Open Platform v2: order pushes in (details pulled), ship, cancel and returns out."""

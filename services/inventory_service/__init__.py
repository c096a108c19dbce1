"""Inventory service: locations, stock per SKU per location, reservations; never oversells."""

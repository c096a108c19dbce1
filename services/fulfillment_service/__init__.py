"""Fulfillment service: shipments per order and location, from confirmation to the carrier."""

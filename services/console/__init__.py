"""The ops console: web pages for ops and the warehouse, calling only the five APIs."""

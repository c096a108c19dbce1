"""Shopify: orders/create webhooks in, Admin GraphQL fulfillments, cancels and refunds out."""

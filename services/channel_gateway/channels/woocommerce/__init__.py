"""WooCommerce: order.created webhooks in, Shipment Tracking, status and refunds out."""

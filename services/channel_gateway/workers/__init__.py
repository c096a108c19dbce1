"""Leader-only background work of the gateway: deliveries to channels, the Amazon poller."""

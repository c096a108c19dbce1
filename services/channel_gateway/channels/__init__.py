"""Channel adapters: per channel a pure translator (channel payload -> canonical order) and its
transport (HTTP to the channel's API); around them the registry of connected channels (with
their secrets), the outbound clients, and what the webhook endpoints use."""

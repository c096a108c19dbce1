"""Channel adapters: per channel a pure translator (channel payload -> canonical order) and its
transport (HTTP to the channel's API)."""

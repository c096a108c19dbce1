"""Amazon SP-API: Orders v2026-01-01 polled in, confirmShipment and feeds out."""

"""Runtime pieces written once and used by every service (relay, consumers, API, logging)."""

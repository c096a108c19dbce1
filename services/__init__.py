"""The OMS services; each one is an independent process and bounded context."""

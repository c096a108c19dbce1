"""Fake channel servers on loopback for tests: they speak each channel's API, record what they
were sent, and fail on demand."""

"""The stream jobs: KPIs per channel and hour, low-stock alerts and reorder suggestions,
computed with faust-streaming over the OMS topics and published on oms.analytics.v1."""

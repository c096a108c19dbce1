"""Code shared by every OMS service: the event contracts and the runtime."""

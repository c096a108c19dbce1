"""The merchant's own channels (web, phone, mail): the customer hears by e-mail."""

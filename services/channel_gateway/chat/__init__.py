"""Messages to customers in their chat: LINE push, Messenger and Instagram sends, and e-mail,
each an adapter of the application's ChatMessages port, chosen per address by `senders`."""

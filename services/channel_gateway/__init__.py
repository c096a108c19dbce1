"""Channel gateway: the anti-corruption layer where every sales channel's orders enter the OMS."""

"""The home page: what is new and featured in the catalogue, and a signed-in person's next
steps. It stands above the catalogue, licensing and accounts, whose selectors it asks."""

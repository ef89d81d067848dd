"""Code both services stand on: configuration, schema, tokens, mail, web foundation."""

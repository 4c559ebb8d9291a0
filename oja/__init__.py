"""OJA engine: services, configuration, database and the operator CLI."""

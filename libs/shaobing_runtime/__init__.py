"""What every Shaobing service needs at its edges: settings, logs, database, Kafka, health."""

"""Rules and policies as data: versioned YAML files, CEL conditions, templates in two languages."""

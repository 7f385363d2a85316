"""The layer catalogue: schema, Swedish/English field aliases and QGIS styles per output layer."""

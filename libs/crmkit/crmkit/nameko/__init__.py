"""Nameko glue of the kit; import only inside service processes (eventlet)."""

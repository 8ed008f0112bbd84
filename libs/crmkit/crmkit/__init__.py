"""crmkit: the small cross-cutting kit every CRM service and the gateway share.

Pure modules (importable anywhere, no eventlet): errors, context, envelope, clock,
config, logs, metrics, db, outbox, inbox, blobs, topology. Nameko glue lives in
``crmkit.nameko`` and is imported only by service processes.
"""

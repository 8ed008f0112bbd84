"""HTTP gateway of the field-sales CRM: Starlette in front, nameko RPC over RabbitMQ behind."""

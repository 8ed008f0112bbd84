from typing import Any

AMQP_URI_CONFIG_KEY: str
AMQP_SSL_CONFIG_KEY: str
LOGIN_METHOD_CONFIG_KEY: str
def __getattr__(name: str) -> Any: ...

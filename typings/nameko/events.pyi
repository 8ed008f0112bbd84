from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

SERVICE_POOL: str
SINGLETON: str
BROADCAST: str

def event_handler(source_service: str, event_type: str, handler_type: str = ..., reliable_delivery: bool = ...,
                  requeue_on_error: bool = ..., **kwargs: Any) -> Callable[[_F], _F]: ...
def __getattr__(name: str) -> Any: ...

from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

def timer(interval: float, eager: bool = ..., **kwargs: Any) -> Callable[[_F], _F]: ...
def __getattr__(name: str) -> Any: ...
